"""Helpers for the HTTP API tests (fixtures are in conftest.py): settings, servers, questions."""

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rag.config import Settings

ZH_QUESTION = "2026年度长三角地区主要领导座谈会是在哪个城市开的？"  # eval zh-001: 上海
EN_QUESTION = "Which city hosted the Yangtze River Delta leaders' symposium?"
API_KEY = "test-key-do-not-log"


def api_settings(index_dir: Path, **overrides: Any) -> Settings:
    """Settings with every API knob explicit, so the caller's RAG_* environment cannot leak in."""
    values: dict[str, Any] = {
        "index_dir": index_dir,
        "api_key": "",
        "llm_base_url": "",
        "llm_model": "",
        "max_question_chars": 2000,
        "max_body_bytes": 1_000_000,
        "max_upload_bytes": 20_000_000,
        "rate_limit_per_minute": 0,
        "max_concurrency": 4,
        "request_timeout_s": 60.0,
        "cors_origins": "",
    }
    return Settings(**{**values, **overrides})


def copy_index(source: Path, target_parent: Path) -> Path:
    target = target_parent / "index"
    shutil.copytree(source, target)
    return target


def wait_ready(get: Callable[[str], httpx.Response], seconds: float = 300.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready after {seconds} s: {get('/readyz').json()}")


@contextmanager
def serve_client(app: FastAPI, ready: bool = True) -> Iterator[TestClient]:
    """A TestClient with the app's lifespan running (so the engine loader has started)."""
    with TestClient(app) as client:
        if ready:
            wait_ready(client.get)
        yield client


@contextmanager
def live_server(app: FastAPI, ready: bool = True) -> Iterator[str]:
    """The app under uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
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
                wait_ready(http.get)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
