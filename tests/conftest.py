"""Session fixtures shared by the whole suite.

The real embedding model is built (once per machine) in the user cache and loaded once per
session: rebuilding ~500 MB for every run would make the suite slow for no extra coverage.
`tests/ingest/test_e5_model.py` checks a build from scratch in a temporary directory. Its ONNX
export, the default backend, is made once the same way; `embedder` runs on it, and
`torch_embedder` is the same model on torch, the reference it is compared with.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.e5_model import ensure_e5_model, model_id
from ingest.embedder import Embedder
from ingest.onnx_embedder import OnnxEmbedder, ensure_onnx_export
from ingest.torch_embedder import SentenceTransformerEmbedder
from rag.config import Settings
from rag.engine import Engine


@pytest.fixture(scope="session")
def cache_root() -> Path:
    """The user cache (RAG_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, then report-rag)."""
    explicit = os.environ.get("RAG_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "report-rag"


@pytest.fixture(scope="session")
def e5_model_dir(cache_root: Path) -> Path:
    return ensure_e5_model(cache_root)


@pytest.fixture(scope="session")
def onnx_model_path(e5_model_dir: Path, cache_root: Path) -> Path:
    """The verified ONNX export of the model, made once per machine in the user cache."""
    return ensure_onnx_export(e5_model_dir, cache_root)


@pytest.fixture(scope="session")
def embedder(e5_model_dir: Path, onnx_model_path: Path) -> OnnxEmbedder:
    """The real multilingual-e5-small on the default backend (onnxruntime), loaded once."""
    return OnnxEmbedder(e5_model_dir, onnx_model_path, model_id=model_id())


@pytest.fixture(scope="session")
def torch_embedder(e5_model_dir: Path) -> SentenceTransformerEmbedder:
    """The real multilingual-e5-small on torch (sentence-transformers), loaded once."""
    return SentenceTransformerEmbedder(str(e5_model_dir), model_id=model_id())


@pytest.fixture(scope="session")
def bundled_engine(tmp_path_factory: pytest.TempPathFactory, cache_root: Path, embedder: Embedder) -> Engine:
    """An engine over an index of the bundled report, built once per session (~15 s).

    Shared by every module that only reads it; a test that changes an index copies this one
    (`engine.index_dir`) into its own tmp_path first. The LLM is switched off explicitly so a
    RAG_LLM_* variable in the caller's environment cannot change the extractive answers."""
    index_dir = tmp_path_factory.mktemp("bundled-engine") / "index"
    settings = Settings(index_dir=index_dir, cache_dir=cache_root, llm_base_url="", llm_model="")
    engine = Engine(settings, index_dir=index_dir, embedder=embedder)
    engine.ingest()
    return engine
