"""bench.bulk_index writes an index the directory store loads, with the real sentence vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.bulk_index import build_bulk, build_bulk_milvus, token_agreement
from ingest.embedder import Embedder
from ingest.lexical import tokenize
from ingest.records import text_at
from ingest.store.directory import DirectoryStore
from ingest.store.milvus import MilvusStore
from rag.config import Settings

SENTENCES = [
    "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。",
    "上海市委书记陈吉宁主持会议。",
    "江苏省委书记信长星,江苏省委副书记、省长刘小涛出席。",
    "三省一市要协同实施人工智能+行动。",
    "The symposium was held in Shanghai.",
    "Leaders of the three provinces and one city attended the meeting.",
    "The next meeting will be hosted by Anhui Province.",
    "Regional cooperation covers transport, energy and data.",
]


def test_bulk_index_loads_with_real_sentence_vectors(tmp_path: Path, embedder: Embedder, cache_root: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", cache_dir=cache_root, index_type="flat")
    report = build_bulk(tmp_path / "index", 60, SENTENCES, embedder, settings, tmp_path / "cache")

    store = DirectoryStore(tmp_path / "index")
    store.verify(embedder.model_id)
    index = store.index
    assert len(index.chunks) == report.chunks >= 60 and len(index.sentence_vectors) == report.sentences
    expected = dict(zip(SENTENCES, embedder.embed_passages(SENTENCES), strict=True))
    for row, chunk in enumerate(index.chunks):
        assert chunk.text == text_at(index.documents[chunk.doc_id].text, chunk.spans)
        vectors = index.sentence_vectors[index.sentence_rows[row]]
        np.testing.assert_allclose(vectors, [expected[s.text] for s in chunk.sentences], atol=1e-6)
        mean = vectors.mean(axis=0)
        assert float(index.chunk_vectors[row] @ mean / np.linalg.norm(mean)) > 0.99
    assert store.lexical_search(["安徽省"], 5) and store.dense_search(expected[SENTENCES[0]], 3)


def test_sentence_tokens_match_whole_chunk_tokens() -> None:
    assert token_agreement(SENTENCES, documents=10) >= 0.9


def test_bulk_milvus_holds_the_same_corpus_as_the_bulk_index(
    tmp_path: Path, embedder: Embedder, cache_root: Path
) -> None:
    settings = Settings(index_dir=tmp_path / "index", cache_dir=cache_root, index_type="flat")
    build_bulk(tmp_path / "index", 60, SENTENCES, embedder, settings, tmp_path / "cache")
    report = build_bulk_milvus(str(tmp_path / "lite.db"), "rag_bulk", 60, SENTENCES, embedder, settings, tmp_path / "cache")

    directory, lite = DirectoryStore(tmp_path / "index"), MilvusStore(str(tmp_path / "lite.db"), "rag_bulk")
    directory.verify(embedder.model_id)
    lite.verify(embedder.model_id)
    assert lite.count() == directory.count() == report.chunks
    assert lite.documents() == directory.documents()
    ids = [chunk.id for chunk in directory.index.chunks]
    assert [chunk.id for chunk in lite.corpus().chunks] == ids
    ours, theirs = lite.fetch(ids), directory.fetch(ids)
    for chunk_id in ids:
        assert ours[chunk_id].chunk == theirs[chunk_id].chunk
        np.testing.assert_allclose(ours[chunk_id].vector, theirs[chunk_id].vector, atol=1e-6)
        np.testing.assert_allclose(ours[chunk_id].sentence_vectors, theirs[chunk_id].sentence_vectors, atol=1e-6)
    for query in ("安徽省召开", "Shanghai symposium"):
        terms = tokenize(query)
        assert _ranked(lite.lexical_search(terms, 10)) == _ranked(directory.lexical_search(terms, 10))
        vector = embedder.embed_queries([query])[0]
        assert _ranked(lite.dense_search(vector, 10)) == _ranked(directory.dense_search(vector, 10))


def _ranked(found: list[tuple[str, float]]) -> list[tuple[float, str]]:
    return sorted((-round(score, 4), chunk_id) for chunk_id, score in found)
