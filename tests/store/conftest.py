"""Stores under test: the index directory, Milvus Lite in this process, a Milvus Lite server
process, and, when MILVUS_URI is set, a real Milvus (e.g. Standalone from its docker compose
file; RAG_STORE_TOKEN for its credentials)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lite_server import LiteServer

from ingest.store import ChunkStore, DirectoryStore

STORE_KINDS = ["directory", "lite", "lite-server"] + (["milvus"] if os.environ.get("MILVUS_URI") else [])


@pytest.fixture(scope="session")
def lite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteServer]:
    server = LiteServer(tmp_path_factory.mktemp("milvus-lite-server"))
    server.start()
    yield server
    server.stop()


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> ChunkStore:
    from ingest.store.milvus import MilvusStore

    collection = f"t_{uuid.uuid4().hex[:12]}"
    if kind == "directory":
        return DirectoryStore(tmp_path / "index", "flat")
    if kind == "lite":
        return MilvusStore(str(tmp_path / "lite.db"), collection)
    if kind == "lite-server":
        return MilvusStore(request.getfixturevalue("lite_server").uri, collection)
    return MilvusStore(os.environ["MILVUS_URI"], collection, token=os.environ.get("RAG_STORE_TOKEN", ""))


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChunkStore]:
    made = make_store(request.param, tmp_path, request)
    yield made
    if request.param == "milvus":  # a real server outlives the test: leave no collections behind
        made.drop()  # type: ignore[attr-defined]
