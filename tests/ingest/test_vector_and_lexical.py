"""ingest.vector_index and ingest.lexical, each checked against a slow reference.

FAISS flat search against a numpy ranking, HNSW recall against exact search, and our BM25
(bm25s, Lucene variant) against the formula worked out in numpy here.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from ingest.errors import BadInput
from ingest.lexical import LexicalIndex, tokenize
from ingest.text import SEARCH_STOPWORDS
from ingest.vector_index import (
    APPROXIMATE_ABOVE,
    EF_SEARCH_CANDIDATES,
    INDEX_TYPES,
    VectorIndex,
    faiss_threads,
    recall_at_k,
    resolve_index_type,
)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def test_flat_search_equals_a_numpy_ranking() -> None:
    rng = np.random.default_rng(7)
    vectors = unit_rows(rng.normal(size=(500, 32)))
    queries = unit_rows(rng.normal(size=(20, 32)))

    scores, rows = VectorIndex.build(vectors, "flat").search(queries, 10)

    similarity = queries @ vectors.T
    expected_rows = np.argsort(-similarity, axis=1)[:, :10]
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_allclose(scores, np.take_along_axis(similarity, expected_rows, axis=1), rtol=1e-5)


def test_search_deeper_than_the_index_returns_every_row_once() -> None:
    vectors = unit_rows(np.eye(3, 8) + 0.1)
    scores, rows = VectorIndex.build(vectors, "flat").search(vectors[:1], 50)
    assert rows.shape == (1, 3)
    assert sorted(rows[0].tolist()) == [0, 1, 2]
    assert rows[0, 0] == 0 and scores[0, 0] == pytest.approx(1.0, abs=1e-6)


def test_an_empty_index_finds_nothing() -> None:
    scores, rows = VectorIndex.build(np.zeros((0, 8), dtype=np.float32), "flat").search(np.ones((2, 8)), 5)
    assert rows.shape == scores.shape == (2, 0)


def test_hnsw_recall_at_10_against_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    centers = rng.normal(size=(50, 64))
    vectors = unit_rows(centers[rng.integers(0, 50, size=5000)] + 0.35 * rng.normal(size=(5000, 64)))
    queries = unit_rows(centers[rng.integers(0, 50, size=200)] + 0.35 * rng.normal(size=(200, 64)))
    _, exact = VectorIndex.build(vectors, "flat").search(queries, 10)
    hnsw = VectorIndex.build(vectors, "hnsw")
    hnsw.save(tmp_path / "hnsw.faiss")
    loaded = VectorIndex.load(tmp_path / "hnsw.faiss")

    _, approximate = loaded.search(queries, 10)

    assert loaded.kind == "hnsw" and loaded.size == 5000
    recall = np.mean(
        [len(set(a) & set(e)) / 10 for a, e in zip(approximate.tolist(), exact.tolist(), strict=True)]
    )
    assert recall >= 0.95, recall


def clustered(rng: np.random.Generator, rows: int, dimension: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Corpus and queries around shared centres, the way real embeddings cluster."""
    centers = rng.normal(size=(50, dimension))
    corpus = unit_rows(centers[rng.integers(0, 50, size=rows)] + 0.35 * rng.normal(size=(rows, dimension)))
    queries = unit_rows(centers[rng.integers(0, 50, size=200)] + 0.35 * rng.normal(size=(200, dimension)))
    return corpus, queries


def test_auto_above_the_threshold_keeps_hnsw_with_measured_recall_on_fresh_queries(tmp_path: Path) -> None:
    vectors, queries = clustered(np.random.default_rng(5), 4000)
    _, exact = VectorIndex.build(vectors, "flat").search(queries, 10)

    index = VectorIndex.build(vectors, "auto", approximate_above=1000)
    index.save(tmp_path / "auto.faiss")
    loaded = VectorIndex.load(tmp_path / "auto.faiss")

    assert index.kind == loaded.kind == "hnsw"
    assert index.ef_search in EF_SEARCH_CANDIDATES
    assert loaded.ef_search == index.ef_search  # the tuned value survives a save and load
    assert recall_at_k(loaded.search(queries, 10)[1], exact) >= 0.95


def test_auto_falls_back_to_exact_search_when_no_ef_search_meets_the_target() -> None:
    vectors, queries = clustered(np.random.default_rng(6), 3000)

    index = VectorIndex.build(vectors, "auto", approximate_above=1000, recall_target=1.01)

    assert index.kind == "flat" and index.ef_search is None
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    np.testing.assert_array_equal(index.search(queries, 10)[1], expected)


def test_auto_at_or_below_the_threshold_is_exact() -> None:
    vectors, _ = clustered(np.random.default_rng(8), 500)
    assert VectorIndex.build(vectors, "auto", approximate_above=500).kind == "flat"


def test_recall_at_k_counts_shared_ids_per_row() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 9], [5, 6, 7, 8]])
    assert recall_at_k(found, truth) == pytest.approx((0.5 + 1.0) / 2)


def test_faiss_threads_is_restored_and_local_to_the_calling_thread() -> None:
    import threading

    import faiss

    def in_a_new_thread() -> int:
        seen: list[int] = []
        other = threading.Thread(target=lambda: seen.append(faiss.omp_get_max_threads()))
        other.start()
        other.join()
        return seen[0]

    before = faiss.omp_get_max_threads()
    fresh = in_a_new_thread()
    chosen = fresh + 1  # differs from what a new thread starts with, so a leak would show
    with faiss_threads(chosen):
        inside = faiss.omp_get_max_threads()
        concurrent = in_a_new_thread()
    assert inside == chosen
    assert concurrent == fresh  # a concurrent request on another thread keeps its own setting
    assert faiss.omp_get_max_threads() == before


def test_flat_index_round_trips(tmp_path: Path) -> None:
    vectors = unit_rows(np.random.default_rng(3).normal(size=(40, 16)))
    VectorIndex.build(vectors, "flat").save(tmp_path / "flat.faiss")
    loaded = VectorIndex.load(tmp_path / "flat.faiss")
    assert loaded.kind == "flat"
    assert loaded.search(vectors[5:6], 1)[1].tolist() == [[5]]


@pytest.mark.parametrize(
    ("requested", "size", "expected"),
    [
        ("auto", 0, "flat"),
        ("auto", APPROXIMATE_ABOVE, "flat"),
        ("auto", APPROXIMATE_ABOVE + 1, "hnsw"),
        ("flat", 10 * APPROXIMATE_ABOVE, "flat"),
        ("hnsw", 1, "hnsw"),
    ],
)
def test_resolve_index_type(requested: str, size: int, expected: str) -> None:
    assert resolve_index_type(requested, size) == expected


def test_resolve_index_type_threshold_is_a_parameter() -> None:
    assert resolve_index_type("auto", 11, approximate_above=10) == "hnsw"
    assert resolve_index_type("auto", 10, approximate_above=10) == "flat"


@pytest.mark.parametrize("bad", ["ivf", "FLAT", ""])
def test_an_unknown_index_type_is_bad_input_listing_the_choices(bad: str) -> None:
    with pytest.raises(BadInput) as error:
        resolve_index_type(bad, 100)
    for choice in INDEX_TYPES:
        assert choice in str(error.value)
    assert "RAG_INDEX_TYPE" in str(error.value)


def test_building_an_unknown_index_type_is_bad_input() -> None:
    with pytest.raises(BadInput, match="flat"):
        VectorIndex.build(np.ones((2, 4), dtype=np.float32), "ivf")


# --- BM25 -----------------------------------------------------------------------------------
CORPUS = [
    "长三角地区主要领导座谈会在上海举行。",
    "会议确定2027年度长三角地区主要领导座谈会在安徽省召开。",
    "The forum was held in Shanghai, and the forum published results.",
    "安徽省委书记出席了长三角一体化发展高层论坛 forum。",
]
K1, B = 1.5, 0.75  # bm25s defaults


def reference_bm25(documents: list[list[str]], query: list[str]) -> np.ndarray:
    """BM25, Lucene variant (as bm25s computes it by default):
    idf = ln(1 + (N - df + 0.5) / (df + 0.5)); tf part = tf / (tf + k1 (1 - b + b |d| / avgdl))."""
    n = len(documents)
    average = sum(len(d) for d in documents) / n
    scores = np.zeros(n)
    for term in query:
        df = sum(term in d for d in documents)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for row, d in enumerate(documents):
            tf = d.count(term)
            scores[row] += idf * tf / (tf + K1 * (1 - B + B * len(d) / average))
    return scores


@pytest.mark.parametrize(
    "query",
    [
        ["安徽"],
        ["forum"],
        ["长三角", "上海"],
        ["座谈会", "2027", "安徽省"],
        ["shanghai", "forum", "论坛", "unknownword"],
    ],
)
def test_bm25_scores_equal_the_reference_formula(query: list[str]) -> None:
    documents = [tokenize(text) for text in CORPUS]
    expected = reference_bm25(documents, query)
    assert expected.max() > 0  # every query matches something: the comparison is not of zeros

    scores = LexicalIndex.build(CORPUS).scores(query)

    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)


def test_bm25_ranks_the_matching_sentence_first() -> None:
    index = LexicalIndex.build(CORPUS)
    assert int(np.argmax(index.scores(tokenize("2027年度座谈会在哪里召开？")))) == 1
    assert int(np.argmax(index.scores(tokenize("forum results")))) == 2
    assert index.scores(["杭州"]).tolist() == [0.0] * 4  # unknown terms score nothing, no error
    assert index.scores([]).tolist() == [0.0] * 4


def test_bm25_round_trips(tmp_path: Path) -> None:
    index = LexicalIndex.build(CORPUS)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path, len(CORPUS))
    query = tokenize("安徽省 forum 上海")
    np.testing.assert_array_equal(loaded.scores(query), index.scores(query))


def test_tokenize_keeps_chinese_words_in_search_mode_and_drops_stopwords() -> None:
    assert tokenize("长三角地区主要领导座谈会在上海举行") == [
        "长三", "三角", "长三角", "地区", "主要", "领导", "座谈", "座谈会", "上海", "举行",
    ]  # fmt: skip
    assert tokenize("什么是长三角的一体化？") == ["长三", "三角", "长三角", "一体", "一体化"]


def test_tokenize_lowercases_english_words_and_drops_stopwords() -> None:
    assert tokenize("The meeting was held in Shanghai.") == ["meeting", "held", "shanghai"]
    assert tokenize("Which province hosts 2027?") == ["province", "hosts", "2027"]


def test_tokenize_mixed_text_and_full_width_characters() -> None:
    assert tokenize("２０２７年度 Forum 在安徽省召开") == ["2027", "年度", "forum", "安徽", "安徽省", "召开"]
    assert not set(tokenize("的 了 在 是 the of and what 什么 哪里 谁")) & SEARCH_STOPWORDS
    assert tokenize("的 了 在 是 the of and what 什么 哪里 谁") == []
