"""Helpers for the HTTP API tests (fixtures are in conftest.py): settings, servers, questions."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from support import live_server, test_settings, wait_ready  # noqa: F401 - live_server: for the tests

from rag.config import Settings

ZH_QUESTION = "2026年度长三角地区主要领导座谈会是在哪个城市开的？"  # eval zh-001: 上海
EN_QUESTION = "Which city hosted the Yangtze River Delta leaders' symposium?"
API_KEY = "test-key-do-not-log"


def api_settings(index_dir: Path, **overrides: Any) -> Settings:
    return test_settings(index_dir, **overrides)


def copy_index(source: Path, target_parent: Path) -> Path:
    target = target_parent / "index"
    shutil.copytree(source, target)
    return target


@contextmanager
def serve_client(app: FastAPI, ready: bool = True) -> Iterator[TestClient]:
    """A TestClient with the app's lifespan running (so the engine loader has started)."""
    with TestClient(app) as client:
        if ready:
            wait_ready(client.get)
        yield client
