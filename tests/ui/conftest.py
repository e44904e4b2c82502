"""Fixtures for the chat page tests: the real engine over the bundled report, the real server.

The bundled report's index is built once per session (tmp dir) and copied for anything that
changes it. `live_page` runs the API app with the page mounted (`create_app` + `mount_ui`)
under uvicorn on a free loopback port, as `rag serve` does.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import live_server
from ui_helpers import LivePage, page_settings

from ingest.embedder import Embedder
from rag.config import Settings
from rag.engine import Engine


@pytest.fixture(scope="session")
def ui_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The bundled report's index, built once; copy it (`index_copy`) before changing it."""
    index_dir = tmp_path_factory.mktemp("ui-bundled") / "index"
    Engine(Settings(index_dir=index_dir), index_dir=index_dir, embedder=embedder).ingest()
    return index_dir


@pytest.fixture(scope="session")
def ui_engine(ui_index: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A warmed engine over the bundled report, for tests that only read."""
    engine = Engine(
        page_settings(ui_index, tmp_path_factory.mktemp("ui-data")), index_dir=ui_index, embedder=embedder
    )
    engine.warm_up()
    return engine


@pytest.fixture
def index_copy(ui_index: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(ui_index, target)
    return target


@pytest.fixture(scope="module")
def live_page(ui_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePage]:
    """The real server: API routes plus the page at `/`, over the shared engine."""
    from rag.edges.api.app import create_app
    from ui.app import mount_ui

    data_dir = tmp_path_factory.mktemp("page-data")
    settings = page_settings(ui_engine.index_dir, data_dir)
    settings.eval_report_path.write_text(
        "<!doctype html><title>eval</title><h1>eval report</h1>", encoding="utf-8"
    )
    app = create_app(ui_engine, settings, build_index=False)
    mount_ui(app, ui_engine, settings)
    with live_server(app, ready_seconds=120.0) as url:
        yield LivePage(url, settings)
