"""One conformance suite, run against every store (tests/store/conftest.py lists them).

The deterministic HashingEmbedder stands in for the model; the ranking tests against the
directory store use the real model on the bundled report (tests/store/test_store_ranking.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.embedder import HashingEmbedder
from ingest.errors import DocumentNotFound, ModelMismatch
from ingest.lexical import tokenize
from ingest.loading import load_text
from ingest.pipeline import update_index
from ingest.records import ChunkingSettings, Document
from ingest.store import ChunkStore, DirectoryStore

CHUNKING = ChunkingSettings(max_tokens=40, overlap_sentences=1)
REPORT_A = "长三角座谈会\n\n会议在上海举行。会议确定2027年度座谈会在安徽省召开。\n\nThe meeting was held in Shanghai."
REPORT_B = "高层论坛\n\n举办了第八届长三角一体化发展高层论坛。论坛发布了多项成果。"
REPORT_C = "年度报告\n\n董事会审议通过了利润分配方案。公司营业收入增长了百分之十二。\n\n现金分红每股零点五元。"
EMBEDDER = HashingEmbedder(64)


def doc(name: str, text: str) -> Document:
    return load_text(name, text, f"/reports/{name}")


def ingest(store: ChunkStore, *documents: Document, **options: object):
    return update_index(store, EMBEDDER, CHUNKING, len, add=list(documents), **options)  # type: ignore[arg-type]


def snapshot(store: ChunkStore) -> dict[str, tuple[str, tuple[tuple[int, int], ...], list[float]]]:
    """Every stored chunk: text, spans and vector (rounded), by id."""
    corpus = store.corpus()
    found = store.fetch([chunk.id for chunk in corpus.chunks])
    return {
        chunk_id: (item.chunk.text, item.chunk.spans, np.round(item.vector, 5).tolist())
        for chunk_id, item in found.items()
    }


def test_ingest_then_read_back(store: ChunkStore) -> None:
    report = ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B))
    assert sorted(report.added) == sorted(store.documents())
    assert store.count() == report.chunks == sum(entry.chunks for entry in store.documents().values())
    info = store.info()
    assert info is not None and (info.embed_model, info.dimension) == ("hashing-64", 64)
    assert info.chunking == CHUNKING.as_dict()
    corpus = store.corpus()
    chunk = corpus.chunks[0]
    stored = store.fetch([chunk.id])[chunk.id]
    assert stored.chunk == chunk
    assert stored.sentence_vectors.shape == (len(chunk.sentences), 64)
    expected = EMBEDDER.embed_passages([s.text for s in chunk.sentences])
    np.testing.assert_allclose(stored.sentence_vectors, expected, atol=1e-6)


def test_reingest_is_idempotent(store: ChunkStore) -> None:
    ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B))
    before = snapshot(store)
    generation = store.generation()
    report = ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B))
    assert not report.changed and report.embedded_chunks == 0
    assert snapshot(store) == before
    assert store.generation() == generation  # nothing written


def test_a_changed_document_replaces_its_chunks(store: ChunkStore) -> None:
    ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B))
    old_ids = {chunk.id for chunk in store.corpus().chunks if chunk.doc_id == doc("a.txt", "").id}
    generation = store.generation()
    report = ingest(store, doc("a.txt", REPORT_A.replace("安徽省", "浙江省")))
    assert report.updated == [doc("a.txt", "").id]
    assert store.generation() != generation
    texts = [chunk.text for chunk in store.corpus().chunks]
    assert any("浙江省" in text for text in texts) and not any("安徽省" in text for text in texts)
    assert not old_ids & set(snapshot(store)) - {c.id for c in store.corpus().chunks}
    assert store.count() == sum(entry.chunks for entry in store.documents().values())
    assert [hit for hit, _ in store.lexical_search(tokenize("安徽省"), 10)] == []


def test_delete_a_document(store: ChunkStore) -> None:
    a, b = doc("a.txt", REPORT_A), doc("b.txt", REPORT_B)
    ingest(store, a, b)
    update_index(store, EMBEDDER, CHUNKING, len, remove_ids=[b.id])
    assert list(store.documents()) == [a.id]
    assert {chunk.doc_id for chunk in store.corpus().chunks} == {a.id}
    vector = EMBEDDER.embed_queries(["论坛发布了多项成果"])[0]
    assert all(chunk_id.startswith(a.id) for chunk_id, _ in store.dense_search(vector, 10))
    assert store.lexical_search(tokenize("高层论坛"), 10) == []
    with pytest.raises(DocumentNotFound):
        update_index(store, EMBEDDER, CHUNKING, len, remove_ids=[b.id])


def test_chinese_bm25_ranks_the_passage_first(store: ChunkStore) -> None:
    ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B), doc("c.txt", REPORT_C))
    found = store.lexical_search(tokenize("利润分配"), 5)
    best = store.fetch([found[0][0]])[found[0][0]].chunk
    assert "利润分配" in best.text
    assert all(score > 0 for _, score in found)
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


def test_scores_equal_the_directory_store(store: ChunkStore, tmp_path: Path) -> None:
    """Dense inner products and BM25 scores, not just their order: fusion sees the same input."""
    documents = [doc("a.txt", REPORT_A), doc("b.txt", REPORT_B), doc("c.txt", REPORT_C)]
    ingest(store, *documents)
    reference = DirectoryStore(tmp_path / "reference", "flat")
    ingest(reference, *documents)
    for query in ("安徽省召开座谈会", "利润分配方案", "论坛 成果", "Shanghai meeting"):
        vector = EMBEDDER.embed_queries([query])[0]
        assert _ranked(store.dense_search(vector, 20)) == _ranked(reference.dense_search(vector, 20))
        terms = tokenize(query)
        assert _ranked(store.lexical_search(terms, 20)) == _ranked(reference.lexical_search(terms, 20))


def _ranked(found: list[tuple[str, float]]) -> list[tuple[float, str]]:
    """Best first; equal scores (to 4 decimals) in id order, however a store orders ties."""
    return sorted((-round(score, 4), chunk_id) for chunk_id, score in found)


def test_filter_by_document(store: ChunkStore) -> None:
    """Replacing and deleting go through a doc_id filter: the other documents stay untouched."""
    a, b, c = doc("a.txt", REPORT_A), doc("b.txt", REPORT_B), doc("c.txt", REPORT_C)
    ingest(store, a, b, c)
    kept = {k: v for k, v in snapshot(store).items() if not k.startswith(b.id)}
    ingest(store, doc("b.txt", REPORT_B + "\n\n新增一段。"))
    update_index(store, EMBEDDER, CHUNKING, len, remove_ids=[b.id])
    assert snapshot(store) == kept


def test_documents_changed_in_one_write_equal_a_fresh_ingest(store: ChunkStore, tmp_path: Path) -> None:
    """Stale rows are deleted per group of documents (one filter): each changed document loses
    its old chunks, and no other document loses any."""
    ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B), doc("c.txt", REPORT_C))
    changed = [doc("a.txt", REPORT_A.replace("安徽省", "浙江省")), doc("b.txt", "高层论坛\n\n论坛发布了多项成果。")]
    report = ingest(store, *changed, doc("c.txt", REPORT_C))
    assert sorted(report.updated) == sorted(d.id for d in changed) and report.unchanged == [doc("c.txt", "").id]
    reference = DirectoryStore(tmp_path / "reference", "flat")
    ingest(reference, *changed, doc("c.txt", REPORT_C))
    assert snapshot(store) == snapshot(reference)
    assert store.count() == reference.count()


def test_model_mismatch_is_caught(store: ChunkStore) -> None:
    ingest(store, doc("a.txt", REPORT_A))
    with pytest.raises(ModelMismatch, match="rebuild"):
        update_index(store, HashingEmbedder(32), CHUNKING, len, add=[doc("b.txt", REPORT_B)])
    with pytest.raises(ModelMismatch, match="hashing-64"):
        store.verify("multilingual-e5-small")
    report = update_index(store, HashingEmbedder(32), CHUNKING, len, add=[doc("b.txt", REPORT_B)], rebuild=True)
    assert report.added == [doc("b.txt", "").id] and list(store.documents()) == [doc("b.txt", "").id]
    assert store.info().dimension == 32  # type: ignore[union-attr]


def test_new_chunking_rechunks_or_says_rebuild(store: ChunkStore) -> None:
    ingest(store, doc("a.txt", REPORT_A), doc("b.txt", REPORT_B))
    other = ChunkingSettings(max_tokens=20, overlap_sentences=0)
    if isinstance(store, DirectoryStore):  # keeps document text: chunks it again
        report = update_index(store, EMBEDDER, other, len, add=[doc("a.txt", REPORT_A)])
        assert report.updated and store.info().chunking == other.as_dict()  # type: ignore[union-attr]
    else:
        from ingest.errors import BadInput

        with pytest.raises(BadInput, match="--rebuild"):
            update_index(store, EMBEDDER, other, len, add=[doc("a.txt", REPORT_A)])
