"""Fixtures for the HTTP API tests: the real engine over the bundled report, real HTTP.

The bundled report's index is built once per session (`bundled_engine`, tests/conftest.py) and
copied per engine here (a copy is a few files; a build embeds the whole report). Read-only
tests share one warmed engine; tests that change the index get their own copy.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from api_helpers import api_settings, copy_index, serve_client
from fastapi.testclient import TestClient

from ingest.embedder import Embedder
from rag.edges.api.app import create_app
from rag.engine import Engine


@pytest.fixture(scope="session")
def bundled_index(bundled_engine: Engine) -> Path:
    """The bundled report's index (tests/conftest.py builds it once): copy it with `copy_index`
    before changing it."""
    return bundled_engine.index_dir


@pytest.fixture(scope="session")
def engine(bundled_index: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Engine:
    """A warmed engine over the bundled report, shared by the tests that only read."""
    index_dir = copy_index(bundled_index, tmp_path_factory.mktemp("read-only"))
    engine = Engine(api_settings(index_dir), index_dir=index_dir, embedder=embedder)
    engine.warm_up()
    return engine


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    """A client of the API with default settings over the shared engine."""
    with serve_client(create_app(engine, api_settings(engine.index_dir))) as test_client:
        yield test_client


@pytest.fixture
def client_with(engine: Engine) -> Callable[..., Any]:
    """`with client_with(max_concurrency=1) as client:` an API client with other settings."""

    @contextmanager
    def make(**overrides: Any) -> Iterator[TestClient]:
        with serve_client(create_app(engine, api_settings(engine.index_dir, **overrides))) as test_client:
            yield test_client

    return make
