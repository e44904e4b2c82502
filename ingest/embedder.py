"""Embedders: text -> L2-normalized float32 vectors, behind one small interface.

`load_embedder` is the one entry point the rest of the project needs: no model name gives the
bundled offline multilingual-e5-small (see `ingest.e5_model`), any other name or path gives
that sentence-transformers model, loaded from local files only. The backend runs it on torch
(sentence-transformers) or on onnxruntime (`ingest.onnx_embedder`); both give the same vectors
under the same `model_id`, so an index built with one is searched with the other.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ingest.e5_model import MODEL_NAME
from ingest.errors import BadInput, ModelUnavailable
from ingest.torch_embedder import SentenceTransformerEmbedder

log = logging.getLogger(__name__)

DEFAULT_MODEL = MODEL_NAME
# auto: ONNX for the bundled model when it can be used (2.5x faster queries, measured), else
# torch; onnx: ONNX or a clear error; torch: sentence-transformers on torch.
BACKENDS = ("auto", "onnx", "torch")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into rows of a float32 matrix with unit L2 norm (inner product = cosine)."""

    @property
    def model_id(self) -> str:  # stable name, stored in index manifests to catch a model mismatch
        ...

    @property
    def dimension(self) -> int: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray: ...


def embed_query_alone(embedder: Embedder, text: str) -> np.ndarray:
    """`text` as a question embedded while no other answer is in flight: on every core where the
    embedder can (ingest.onnx_embedder), else as `embed_queries` does it. The same row either way."""
    alone = getattr(embedder, "embed_query_alone", None)
    return alone(text) if alone is not None else embedder.embed_queries([text])


class HashingEmbedder:
    """A deterministic stand-in for unit tests of index and fusion code: counts of character
    1-3 grams hashed into `dimension` buckets, L2-normalized. No model, no randomness. Texts
    sharing n-grams score higher; it knows nothing of meaning or language."""

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.model_id = f"hashing-{dimension}"

    def _embed(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        text = text.lower()
        # The empty gram keeps "" a unit vector like every other text.
        grams = [text[i : i + n] for n in (1, 2, 3) for i in range(len(text) - n + 1)] or [""]
        for gram in grams:
            # blake2b, not hash(): Python salts str hashes per process.
            digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest, "little") % self.dimension] += 1.0
        return vector / np.linalg.norm(vector)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self._embed(text)
        return matrix


def load_embedder(
    model: str | None,
    cache_root: Path,
    progress: Callable[[str], None] | None = None,
    backend: str = "auto",
) -> Embedder:
    """The embedder for `model`: None, "" or "multilingual-e5-small" is the bundled offline
    model (built under `cache_root` on first use); anything else is a sentence-transformers
    model name or directory, loaded from local files only.

    backend: one of BACKENDS. "auto" runs the bundled model on onnxruntime (exported and
    verified under `cache_root` on first use) and falls back to torch with one warning when it
    cannot; other models stay on torch unless "onnx" is asked for.
    progress: told when a one-time build (model, ONNX export) starts.
    """
    if backend not in BACKENDS:
        raise BadInput(f"Unknown embedding backend {backend!r}: set RAG_EMBED_BACKEND to one of {', '.join(BACKENDS)}.")
    bundled = not model or model == DEFAULT_MODEL
    if bundled:
        from ingest.e5_model import ensure_e5_model, model_id

        name, identity = str(ensure_e5_model(cache_root, progress)), model_id()
    else:
        name = identity = str(model)
    if backend == "torch" or (backend == "auto" and not bundled):
        return SentenceTransformerEmbedder(name, model_id=identity)
    from ingest.onnx_embedder import load_onnx_embedder

    directory = Path(name).expanduser()
    try:
        if not directory.is_dir():
            raise ModelUnavailable(
                f"RAG_EMBED_BACKEND=onnx needs a local model directory, and {name!r} is not one: set "
                "RAG_EMBED_MODEL to its path, or set RAG_EMBED_BACKEND=torch."
            )
        return load_onnx_embedder(directory, cache_root, identity, progress)
    except ModelUnavailable as exc:
        if backend == "onnx":
            raise
        log.warning("Embedding on torch, not ONNX (queries ~2x slower): %s", exc)
        return SentenceTransformerEmbedder(name, model_id=identity)


def embedder_model_id(model: str | None) -> str:
    """The id `load_embedder(model, ...)` will have, known without loading anything."""
    if not model or model == DEFAULT_MODEL:
        from ingest.e5_model import model_id

        return model_id()
    return str(model)


class LazyEmbedder:
    """An embedder that loads its model on first use.

    Its `model_id` is known at once, which is all that checking an index, listing documents or
    an ingest with nothing new needs: those then skip the 5-10 s model load."""

    def __init__(
        self,
        model: str | None,
        cache_root: Path,
        progress: Callable[[str], None] | None = None,
        backend: str = "auto",
    ) -> None:
        self.model_id = embedder_model_id(model)
        self._model = model
        self._cache_root = cache_root
        self._progress = progress
        self._backend = backend
        self._loaded: Embedder | None = None
        self._lock = threading.Lock()

    def loaded(self) -> Embedder:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = load_embedder(self._model, self._cache_root, self._progress, self._backend)
        return self._loaded

    @property
    def dimension(self) -> int:
        return self.loaded().dimension

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.loaded().embed_queries(texts)

    def embed_query_alone(self, text: str) -> np.ndarray:
        return embed_query_alone(self.loaded(), text)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.loaded().embed_passages(texts, progress=progress)


__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "Embedder",
    "LazyEmbedder",
    "embed_query_alone",
    "embedder_model_id",
    "HashingEmbedder",
    "load_embedder",
]
