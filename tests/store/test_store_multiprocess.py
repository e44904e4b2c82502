"""Many processes, one Milvus collection (issue 14, part 4): two `rag serve` replicas behind one
Milvus Lite server, and two `rag ingest` workers filling one collection at once.

Real processes on loopback ports, the real model (loaded once per process). Every wait is
bounded by a deadline that only turns a hang into a failure; nothing asserts on time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from lite_server import LiteServer, free_port

from ingest.embedder import Embedder
from ingest.store.milvus import MilvusStore, collection_name
from rag.config import Settings
from rag.engine import Engine

pytestmark = pytest.mark.slow

API_KEY = "multiprocess-test-key"
START_DEADLINE_S = 240  # two model loads on two shared cores; only a hang reaches it
RUN_DEADLINE_S = 300

# Tiny real documents, each with facts found nowhere else.
DOCUMENTS = {
    "observatory.txt": (
        "The Qinling Ridge Observatory was founded in 1987 by the astronomer Lin Wenhua. "
        "Its main telescope has a mirror 2.4 metres across and sits at 3,071 metres above sea level."
    ),
    "ferry.txt": (
        "The Harbin river ferry carried 412,000 passengers in 2022. "
        "Its oldest vessel, the Songhua Star, entered service in 1964 and was retired in 2019."
    ),
    "orchard.txt": (
        "The Yuxi pear orchard covers 86 hectares. Its growers harvested 1,350 tonnes of pears in 2023, "
        "mostly of the Dangshan variety."
    ),
    "library.txt": (
        "The Kestrel Bay public library lends about 9,800 books a month. "
        "It opened a reading room for children in 2016 with 4,000 picture books."
    ),
    "bridge.txt": (
        "The Tamsin footbridge spans 148 metres over the Adler river. "
        "It was built from weathering steel and opened to walkers in 2011."
    ),
    "wind.txt": (
        "风电场位于甘肃酒泉，共有一百二十台风机。二零二二年该风电场发电三亿千瓦时，供应约十五万户家庭。"
    ),
    "tea.txt": ("云雾茶园海拔一千二百米，面积四十公顷。茶园每年春季采摘，二零二三年产干茶十八吨。"),
    "museum.txt": (
        "The Corran maritime museum holds 2,300 ship models. "
        "Its largest model, a clipper named Morning Wren, is 4 metres long."
    ),
}


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAG_STORE", None)
    env.pop("RAG_STORE_TOKEN", None)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.update(extra)
    return env


def _rag(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag.edges.cli", *args]


@contextmanager
def rag_server(index_dir: Path, store_uri: str, tmp_path: Path) -> Iterator[str]:
    """`rag serve` in its own process on a free loopback port; yields its URL once /readyz is 200."""
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    env = _env(
        RAG_STORE=store_uri,
        RAG_API_KEY=API_KEY,
        RAG_FEEDBACK_PATH=str(tmp_path / f"feedback-{port}.jsonl"),
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _rag("serve", "--index", str(index_dir), "--host", "127.0.0.1", "--port", str(port)),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"rag serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"rag serve not ready within {START_DEADLINE_S} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _seed(store_uri: str, index_dir: Path, tmp_path: Path, embedder: Embedder) -> None:
    """A collection with one unrelated document, so neither server builds the bundled report."""
    seed_dir = tmp_path / "seed"
    seed_dir.mkdir()
    (seed_dir / "museum.txt").write_text(DOCUMENTS["museum.txt"], encoding="utf-8")
    settings = Settings().model_copy(update={"store": store_uri})
    Engine(settings, index_dir=index_dir, embedder=embedder).ingest([seed_dir], progress=False)


def test_an_upload_through_one_replica_is_answered_by_the_other(
    lite_server: LiteServer, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / f"replicas_{uuid.uuid4().hex[:8]}"  # names the collection
    _seed(lite_server.uri, index_dir, tmp_path, embedder)
    with ExitStack() as stack:
        first = stack.enter_context(rag_server(index_dir, lite_server.uri, tmp_path))
        second = stack.enter_context(rag_server(index_dir, lite_server.uri, tmp_path))
        question = "When was the Qinling Ridge Observatory founded, and by whom?"

        before = httpx.post(f"{second}/ask", json={"question": question}, timeout=120).json()
        assert all(c["source"] != "observatory.txt" for c in before.get("citations", []))

        upload = httpx.post(
            f"{first}/documents",
            files={"file": ("observatory.txt", DOCUMENTS["observatory.txt"].encode(), "text/plain")},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=120,
        )
        assert upload.status_code == 201, upload.text
        doc_id = upload.json()["doc_id"]

        listed = httpx.get(f"{second}/documents", timeout=60).json()["documents"]
        assert doc_id in {d["doc_id"] for d in listed}

        answer = httpx.post(f"{second}/ask", json={"question": question}, timeout=120)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        cited = {c["doc_id"] for c in body["citations"]}
        assert doc_id in cited, body
        assert "1987" in body["answer"], body


def _store(uri: str, index_dir: Path) -> MilvusStore:
    return MilvusStore(uri, collection_name(index_dir))


def _snapshot(store: MilvusStore) -> tuple[dict[str, tuple[str, str, int]], list[str], int]:
    documents = {d.id: (d.source, d.content_hash, d.chunks) for d in store.documents().values()}
    chunk_ids = sorted(chunk.id for chunk in store.corpus().chunks)
    return documents, chunk_ids, store.count()


def test_two_ingest_workers_fill_one_collection_as_one_would(lite_server: LiteServer, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCUMENTS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    files = sorted(str(p) for p in corpus.iterdir())
    halves = [files[0::2], files[1::2]]
    tag = uuid.uuid4().hex[:8]
    shared_index, single_index = tmp_path / f"shared_{tag}", tmp_path / f"single_{tag}"
    env = _env()

    def ingest(index_dir: Path, paths: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                _rag("ingest", "--store", lite_server.uri, "--index", str(index_dir), "--json", *paths),
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    workers = [ingest(shared_index, half, tmp_path / f"worker{i}.log") for i, half in enumerate(halves)]
    for i, worker in enumerate(workers):
        code = worker.wait(timeout=RUN_DEADLINE_S)
        assert code == 0, (tmp_path / f"worker{i}.log").read_text()[-3000:]
    single = ingest(single_index, files, tmp_path / "single.log")
    assert single.wait(timeout=RUN_DEADLINE_S) == 0, (tmp_path / "single.log").read_text()[-3000:]

    shared = _snapshot(_store(lite_server.uri, shared_index))
    alone = _snapshot(_store(lite_server.uri, single_index))
    assert len(shared[0]) == len(DOCUMENTS)
    assert shared == alone
    assert shared[2] == len(shared[1])
