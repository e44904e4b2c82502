"""MilvusStore counts once per generation, and still sees another writer's chunks at once."""

from __future__ import annotations

from pathlib import Path

from ingest.embedder import HashingEmbedder
from ingest.loading import load_text
from ingest.pipeline import update_index
from ingest.records import ChunkingSettings
from ingest.store.milvus import MilvusStore

CHUNKING = ChunkingSettings(max_tokens=40, overlap_sentences=1)
EMBEDDER = HashingEmbedder(64)


def test_count_follows_another_writer(tmp_path: Path) -> None:
    uri = str(tmp_path / "lite.db")
    reader, writer = MilvusStore(uri, "rag_count"), MilvusStore(uri, "rag_count")
    first = load_text("a.txt", "会议在上海举行。会议确定2027年度座谈会在安徽省召开。", "/r/a.txt")
    update_index(writer, EMBEDDER, CHUNKING, len, add=[first])
    before = reader.count()
    assert before == writer.count() > 0
    assert reader.count() == before  # the same generation: served from the cache

    second = load_text("b.txt", "举办了第八届长三角一体化发展高层论坛。论坛发布了多项成果。", "/r/b.txt")
    report = update_index(writer, EMBEDDER, CHUNKING, len, add=[second])
    assert reader.count() == report.chunks > before
