"""An index directory opened `shared` (each worker of `rag serve --workers N`) reads what another
process wrote since; opened plainly (one process), it keeps the version it loaded.

Two store objects on one directory stand in for two processes: they share no memory. The
deterministic HashingEmbedder stands in for the model (tests/rag/test_serve_workers.py runs the
real processes with the real model).
"""

from __future__ import annotations

from pathlib import Path

from ingest.embedder import HashingEmbedder
from ingest.loading import load_text
from ingest.pipeline import update_index
from ingest.records import ChunkingSettings, Document
from ingest.store import DirectoryStore, open_store

CHUNKING = ChunkingSettings(max_tokens=40, overlap_sentences=1)
EMBEDDER = HashingEmbedder(64)
FIRST = load_text("a.txt", "长三角座谈会\n\n会议在上海举行。会议确定2027年度座谈会在安徽省召开。", "/reports/a.txt")
SECOND = load_text("b.txt", "高层论坛\n\n举办了第八届长三角一体化发展高层论坛。论坛发布了多项成果。", "/reports/b.txt")


def write(store: DirectoryStore, document: Document) -> None:
    update_index(store, EMBEDDER, CHUNKING, len, add=[document])


def test_a_shared_reader_sees_another_writer_and_a_plain_one_keeps_its_version(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    writer = DirectoryStore(index_dir, "flat", shared=True)
    write(writer, FIRST)
    shared = open_store("", index_dir, index_type="flat", shared=True)
    plain = open_store("", index_dir, index_type="flat")
    for reader in (shared, plain):
        reader.verify(EMBEDDER.model_id)  # loaded, as an engine loads it
    before = shared.generation()

    write(writer, SECOND)

    assert (shared.shared, plain.shared) == (True, False)
    assert shared.generation() != before  # what Engine._stale compares: the next question reloads
    assert set(shared.documents()) == {FIRST.id, SECOND.id}
    assert set(plain.documents()) == {FIRST.id}  # one process: the version it loaded
    shared.verify(EMBEDDER.model_id)
    assert {chunk.doc_id for chunk in shared.corpus().chunks} == {FIRST.id, SECOND.id}


def test_a_shared_writer_builds_on_the_live_version_not_its_own(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first, second = (DirectoryStore(index_dir, "flat", shared=True) for _ in range(2))
    write(first, FIRST)
    second.verify(EMBEDDER.model_id)
    write(first, SECOND)  # `second` still holds the version with FIRST only
    third = load_text("c.txt", "年度报告\n\n董事会审议通过了利润分配方案。", "/reports/c.txt")

    write(second, third)

    assert set(DirectoryStore(index_dir).documents()) == {FIRST.id, SECOND.id, third.id}


def test_a_snapshot_keeps_its_version_while_the_store_moves_on(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "index", "flat", shared=True)
    write(store, FIRST)
    store.verify(EMBEDDER.model_id)
    snapshot = store.snapshot()
    first_ids = [chunk.id for chunk in snapshot.corpus().chunks]

    write(store, SECOND)  # the store now holds the new version; the snapshot must not
    store.verify(EMBEDDER.model_id)

    assert {chunk.doc_id for chunk in store.corpus().chunks} == {FIRST.id, SECOND.id}
    assert [chunk.id for chunk in snapshot.corpus().chunks] == first_ids
    query = EMBEDDER.embed_queries(["高层论坛发布了多项成果"])[0]
    assert {chunk_id for chunk_id, _ in snapshot.dense_search(query, 10)} == set(first_ids)
    assert set(snapshot.fetch([chunk.id for chunk in store.corpus().chunks])) == set(first_ids)
    assert (snapshot.count(), set(snapshot.documents())) == (len(first_ids), {FIRST.id})
