"""Helpers shared by the tests: settings with every knob explicit, an engine over a few short
documents, and the app under a real uvicorn on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from ingest.embedder import Embedder
from rag.config import Settings
from rag.engine import Engine


def test_settings(index_dir: Path, **overrides: Any) -> Settings:
    """Settings with every knob the API and the page read explicit, so the caller's RAG_*
    environment cannot leak in."""
    values: dict[str, Any] = {
        "index_dir": index_dir,
        "api_key": "",
        "llm_base_url": "",
        "llm_model": "",
        "top_k": 5,
        "max_question_chars": 2000,
        "max_body_bytes": 1_000_000,
        "max_upload_bytes": 20_000_000,
        "rate_limit_per_minute": 0,
        "max_concurrency": 4,
        "request_timeout_s": 60.0,
        "cors_origins": "",
    }
    return Settings(**{**values, **overrides})


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def engine_over(root: Path, documents: dict[str, str], cache_root: Path, embedder: Embedder) -> Engine:
    """An engine over `documents` (file stem -> text), each ingested as its own document."""
    corpus = root / "corpus"
    corpus.mkdir()
    for stem, text in documents.items():
        (corpus / f"{stem}.txt").write_text(text, encoding="utf-8")
    index_dir = root / "index"
    settings = Settings(index_dir=index_dir, cache_dir=cache_root, llm_base_url="", llm_model="")
    engine = Engine(settings, index_dir=index_dir, embedder=embedder)
    engine.ingest([corpus])
    return engine


def wait_ready(get: Callable[[str], httpx.Response], seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready after {seconds} s: {get('/readyz').json()}")


@contextmanager
def live_server(app: Any, ready: bool = True, ready_seconds: float = 300.0) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port (until /readyz says ready, unless `ready` is
    False); yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # An open page holds a heartbeat stream: bound the graceful wait for it at shutdown.
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise AssertionError("uvicorn did not start")
            time.sleep(0.02)
        if ready:
            with httpx.Client(base_url=url) as http:
                wait_ready(http.get, ready_seconds)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
