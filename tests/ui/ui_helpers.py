"""Helpers for the chat page tests (fixtures are in conftest.py): settings and a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from rag.config import Settings

API_KEY = "ui-test-key"


def page_settings(index_dir: Path, data_dir: Path, **overrides: Any) -> Settings:
    """Settings with every knob the page reads explicit, so the caller's RAG_* cannot leak in."""
    values: dict[str, Any] = {
        "index_dir": index_dir,
        "api_key": "",
        "llm_base_url": "",
        "llm_model": "",
        "top_k": 5,
        "max_question_chars": 2000,
        "max_upload_bytes": 1_000_000,
        "rate_limit_per_minute": 0,
        "max_concurrency": 4,
        "request_timeout_s": 60.0,
        "cors_origins": "",
        "feedback_path": data_dir / "feedback" / "feedback.jsonl",
        "eval_report_path": data_dir / "eval-report.html",
    }
    return Settings(**{**values, **overrides})


@dataclass(frozen=True)
class LivePage:
    url: str
    settings: Settings


@contextmanager
def serve(app: Any, ready_seconds: float = 120.0) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port until /readyz says ready; yields its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Each open tab holds a heartbeat stream: bound the graceful wait for it at shutdown.
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: server.started, 30, "uvicorn did not start", thread)
        with httpx.Client(base_url=url) as http:
            _wait(
                lambda: http.get("/readyz").status_code == 200,
                ready_seconds,
                "the engine is not ready",
                thread,
            )
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _wait(condition: Callable[[], bool], seconds: float, message: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError(f"{message} after {seconds} s")
        time.sleep(0.05)
