"""Errors raised by the index. The CLI turns them into one-line messages; nothing else catches them broadly.

LatentError
├── IndexUnusableError            the index folder or server cannot be used
│   ├── ModelMismatchError the index was built with another embedding model
│   │   └── BackendMismatchError  … with the same model run by another backend (torch, onnx-int8)
│   └── StoreUnavailableError  the Chroma server cannot be reached
└── DocumentNotFoundError  `remove DOC` named no stored document
"""

from __future__ import annotations


class LatentError(Exception):
    """Base of every error Latent raises on purpose."""


class IndexUnusableError(LatentError):
    """The index folder or server cannot be used as asked."""


class ModelMismatchError(IndexUnusableError):
    """The index was built with a different embedding model; mixing vectors would give nonsense."""


class BackendMismatchError(ModelMismatchError):
    """The index's vectors were made by the same model run by another backend (fp32 torch against int8 ONNX)."""


class StoreUnavailableError(IndexUnusableError):
    """The Chroma server did not answer (stopped, restarting, or a wrong URL)."""


class DocumentNotFoundError(LatentError):
    """No stored document matches the given id, path or file name."""
