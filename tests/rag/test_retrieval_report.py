"""Hybrid retrieval on the bundled report, with the real model (the `bundled_engine` fixture)."""

from pathlib import Path

import pytest

from ingest.errors import BadInput
from ingest.records import text_at
from rag.engine import Engine
from rag.retrieval.glossary import capitalized_names
from rag.retrieval.retriever import MODES

REPORT = Path(__file__).resolve().parents[2] / "ingest" / "corpus" / "000_a507548b56e5d456.txt"
HOSTS_2027 = "2027年度长三角地区主要领导座谈会在安徽省召开"
EXAMPLE_QUERIES = ["2027年度长三角地区主要领导座谈会在哪里召开？", "which province hosts 2027?"]


@pytest.fixture(scope="module")
def source_text() -> str:
    return REPORT.read_bytes().decode("utf-8")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("query", EXAMPLE_QUERIES)
def test_the_example_queries_rank_the_2027_passage_first(
    bundled_engine: Engine, query: str, mode: str
) -> None:
    retrieval = bundled_engine.search(query, k=5, mode=mode)
    hits = retrieval.hits
    # The lexical side returns only passages sharing a term with the query: maybe fewer than k.
    if mode == "lexical":
        assert 1 <= len(hits) <= 5
    else:
        assert len(hits) == 5
    assert HOSTS_2027 in hits[0].chunk.text, [hit.chunk.text[:40] for hit in hits]
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert len({hit.chunk.id for hit in hits}) == len(hits)


def test_each_mode_uses_its_own_side(bundled_engine: Engine) -> None:
    query = EXAMPLE_QUERIES[0]
    dense = bundled_engine.search(query, k=3, mode="dense")
    lexical = bundled_engine.search(query, k=3, mode="lexical")
    hybrid = bundled_engine.search(query, k=3, mode="hybrid")
    assert all(hit.lexical_score is None for hit in dense.hits) and dense.lexical_tokens == []
    assert all(hit.lexical_score is not None and hit.lexical_score > 0 for hit in lexical.hits)
    assert "2027" in hybrid.lexical_tokens and "安徽" not in hybrid.lexical_tokens
    assert all(hit.dense_score is not None for hit in hybrid.hits)
    assert hybrid.language == "zh"
    assert bundled_engine.search(EXAMPLE_QUERIES[1], k=1).language == "en"


def test_the_first_passage_is_agreed_when_both_sides_put_it_first(bundled_engine: Engine) -> None:
    outcomes = []
    for query in ["2027年度座谈会在哪里召开？", "谁出席了会议？", "数字长三角", "人工智能", "Which province hosts 2027?"]:
        top = {mode: bundled_engine.search(query, k=5, mode=mode).hits[0].chunk.id for mode in MODES}
        hybrid = bundled_engine.search(query, k=5)
        both_first = top["dense"] == top["lexical"] == top["hybrid"]
        assert hybrid.agreed_top == both_first, query
        assert not bundled_engine.search(query, k=5, mode="dense").agreed_top  # one side agrees with nothing
        outcomes.append(both_first)
    assert True in outcomes and False in outcomes


def test_english_queries_search_the_chinese_text_with_translations(bundled_engine: Engine) -> None:
    retrieval = bundled_engine.search("Who is the Party secretary of Jiangsu?", k=3)
    assert retrieval.translations  # glossary terms for the lexical side
    assert "江苏" in "".join(retrieval.translations)
    assert any("江苏省委书记信长星" in hit.chunk.text for hit in retrieval.hits)


def test_hit_spans_give_back_the_passage_from_the_source_file(
    bundled_engine: Engine, source_text: str
) -> None:
    index = bundled_engine.index
    doc = index.documents[index.chunks[0].doc_id]
    assert doc.text == source_text and doc.source == REPORT.name
    for query in [*EXAMPLE_QUERIES, "王清宪说了什么？", "photo caption 图为"]:
        for hit in bundled_engine.search(query, k=10).hits:
            assert hit.source == REPORT.name
            assert text_at(source_text, hit.chunk.spans) == hit.chunk.text
            for sentence in hit.chunk.sentences:
                assert text_at(source_text, sentence.spans) == sentence.text


def test_every_chunk_of_the_loaded_index_round_trips(bundled_engine: Engine, source_text: str) -> None:
    chunks = bundled_engine.index.chunks
    assert len(chunks) > 20
    assert all(text_at(source_text, chunk.spans) == chunk.text for chunk in chunks)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"query": "安徽", "mode": "sparse"}, "hybrid, dense, lexical"),
        ({"query": "安徽", "k": 0}, "at least 1"),
        ({"query": "安徽", "k": -3}, "at least 1"),
        ({"query": ""}, "empty"),
        ({"query": "  \n\t"}, "empty"),
    ],
)
def test_bad_searches_are_bad_input(bundled_engine: Engine, arguments: dict, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        bundled_engine.search(**arguments)


def test_k_larger_than_the_index_returns_every_passage_once(bundled_engine: Engine) -> None:
    size = len(bundled_engine.index.chunks)
    hits = bundled_engine.search("长三角", k=size + 50).hits
    assert len(hits) == len({hit.chunk.id for hit in hits}) == size


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("Who is Liu Xiaotao?", ["Liu Xiaotao"]),
        (
            "What did Chen Jining and Wang Qingxian say in Shanghai?",
            ["Chen Jining", "Wang Qingxian", "Shanghai"],
        ),
        ("Which province hosts 2027?", []),
        # A capitalized place is a candidate too; its pinyin simply matches nothing.
        ("What is the Yangtze River Delta?", ["Yangtze River Delta"]),
    ],
)
def test_capitalized_names(question: str, names: list[str]) -> None:
    assert capitalized_names(question) == names
