"""Hybrid ranking and answers through Milvus equal the directory store's (real model, bundled
report), and a Milvus server that goes away gives a clear 503 and recovers when it returns."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from lite_server import LiteServer

from ingest.errors import StoreUnavailable
from rag.engine import Engine

QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "data" / "report_questions.jsonl"


def questions() -> list[str]:
    with QUESTIONS.open(encoding="utf-8") as handle:
        return [json.loads(line)["question"] for line in handle if line.strip()]


def milvus_engine(reference: Engine, spec: str, tmp_path: Path) -> Engine:
    index_dir = tmp_path / f"report_{uuid.uuid4().hex[:8]}"
    settings = reference.settings.model_copy(update={"store": spec, "index_dir": index_dir})
    engine = Engine(settings, index_dir=index_dir, embedder=reference.embedder)
    engine.ingest()
    return engine


@pytest.mark.parametrize("kind", ["lite", "lite-server"])
def test_hybrid_ranking_and_answers_equal_the_directory_store(
    kind: str, bundled_engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    spec = str(tmp_path / "report.db") if kind == "lite" else request.getfixturevalue("lite_server").uri
    engine = milvus_engine(bundled_engine, spec, tmp_path)
    assert engine.store.count() == bundled_engine.store.count()
    asked = questions()
    for question in asked:
        want = bundled_engine.search(question, k=10)
        got = engine.search(question, k=10)
        assert [h.chunk.id for h in got.hits] == [h.chunk.id for h in want.hits], question
        assert [round(h.score, 9) for h in got.hits] == [round(h.score, 9) for h in want.hits], question
    for question in asked[::10]:
        want, got = bundled_engine.answer(question), engine.answer(question)
        assert (got.answer, got.short_answer, got.found) == (want.answer, want.short_answer, want.found), question


def test_a_server_that_goes_away_gives_503_and_recovers(
    bundled_engine: Engine, tmp_path: Path
) -> None:
    server = LiteServer(tmp_path / "server")
    server.start()
    try:
        engine = milvus_engine(bundled_engine, server.uri, tmp_path)
        question = "2027年度长三角地区主要领导座谈会在哪里召开？"
        before = engine.answer(question)
        server.stop()
        with pytest.raises(StoreUnavailable, match="unreachable") as caught:
            engine.answer(question)
        assert caught.value.status == 503 and server.uri in str(caught.value)
        server.start()
        assert engine.answer(question).answer == before.answer
    finally:
        server.stop()
