"""An engine over an index directory that other processes change too (`shared_store`, as each
worker of `rag serve --workers N` opens it): it answers from another process's upload, and a
question already in flight when that upload is installed finishes on the version it started on.

Two engines on one directory stand in for two worker processes (they share no objects); the
deterministic HashingEmbedder stands in for the model, so only which passages come back is
checked, not answer quality.
"""

from __future__ import annotations

from pathlib import Path

from ingest.embedder import HashingEmbedder
from rag.config import Settings
from rag.engine import Engine
from rag.events import Done

FIRST = "长三角座谈会\n\n会议在上海举行。会议确定2027年度座谈会在安徽省召开。"
SECOND = "高层论坛\n\n举办了第八届长三角一体化发展高层论坛。论坛发布了多项成果。"


def engine(index_dir: Path, cache_root: Path) -> Engine:
    settings = Settings(index_dir=index_dir, cache_dir=cache_root, llm_base_url="", llm_model="")
    return Engine(settings, index_dir=index_dir, embedder=HashingEmbedder(64), shared_store=True)


def test_an_upload_through_one_engine_is_read_by_the_other_and_spares_questions_in_flight(
    tmp_path: Path, cache_root: Path
) -> None:
    index_dir = tmp_path / "index"
    reader, writer = engine(index_dir, cache_root), engine(index_dir, cache_root)
    assert reader.add_upload("first.txt", FIRST.encode()).status == "added"
    reader.answer("会议在哪里举行？")  # loaded, with the rows of its version cached
    in_flight = reader.stream("高层论坛发布了什么？")  # bound to that version, not started yet

    second = writer.add_upload("second.txt", SECOND.encode())

    assert second.doc_id in {doc["doc_id"] for doc in reader.documents()}
    assert reader.search("高层论坛发布了多项成果", k=1).hits[0].chunk.doc_id == second.doc_id
    done = list(in_flight)[-1]
    assert isinstance(done, Done)
    assert all(citation.doc_id != second.doc_id for citation in done.answer.citations)
