"""Where the `onnx-int8` backend's built model lives and what it is named by: the recipe, the versions of the
libraries that shape the export, and the model's own files. Read by the encoder (`onnx_encoder`, which loads a
built folder) and by the builder (`onnx_build`, which writes one), so neither reaches into the other."""

from __future__ import annotations

import hashlib
import os
import re
from importlib import metadata
from pathlib import Path

RECIPE = 1  # bump when the export or quantization recipe changes: folders built by an older recipe are ignored
MODEL_FILE = "model-int8.onnx"
VERSIONED = ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")
MISSING = ("the onnx-int8 embedding backend needs onnxruntime (and onnx to build its model): "
           "pip install 'latent[onnx]', or set LATENT_EMBEDDING__BACKEND=torch")


def cache_root() -> Path:
    """A per-user cache folder (XDG on Linux): the built models are derived data, safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "latent" / "onnx"


def library_version(dist: str) -> str:
    """The installed version of a distribution, or '-' when it is not installed."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def build_key(model: str, path: str) -> str:
    """Changes with the recipe, any library that shapes the export, or any file of the model (size and time:
    hashing 90 MB of weights would cost each process half a second)."""
    parts = [f"recipe {RECIPE}", f"model {model}", *(f"{d} {library_version(d)}" for d in VERSIONED)]
    folder = Path(path)
    if folder.is_dir():
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                st = f.stat()
                parts.append(f"{f.relative_to(folder)} {st.st_size} {st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def model_folder(model: str, path: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model.rstrip("/"))[-60:]
    return cache_root() / f"{slug}-{build_key(model, path)}"
