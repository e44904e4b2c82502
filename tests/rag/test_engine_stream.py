"""Engine.stream: typed events (Citations, Delta..., Done) with one citation shape, from the
extractive answerer and from an LLM (the fake OpenAI-compatible server)."""

from dataclasses import replace

from fake_openai import FakeOpenAI

from rag.engine import Engine
from rag.events import Citations, Delta, Done
from rag.records import Citation

ZH_QUESTION = "2027年度长三角地区主要领导座谈会在哪里召开？"
# Three retrieved passages hold a candidate sentence for it (the dateline, the press conference,
# the headline), so the LLM is offered three.
WHEN_QUESTION = "座谈会什么时候举行？"


def _split(events: list) -> tuple[Citations, list[Delta], Done]:
    first, *middle, last = events
    assert isinstance(first, Citations) and isinstance(last, Done)
    assert all(isinstance(event, Delta) for event in middle)
    return first, middle, last


def test_extractive_stream_spells_out_the_answer_it_ends_with(bundled_engine: Engine) -> None:
    citations, deltas, done = _split(list(bundled_engine.stream(ZH_QUESTION)))

    assert "".join(delta.text for delta in deltas) == done.answer.answer
    assert citations.citations == done.answer.citations
    assert done.answer.short_answer == "安徽省"
    assert replace(done.answer, timings_ms={}) == replace(bundled_engine.answer(ZH_QUESTION), timings_ms={})


def test_llm_stream_offers_each_passage_as_a_citation_of_the_same_shape(bundled_engine: Engine) -> None:
    with FakeOpenAI("good") as fake:
        # unchecked: the fake's canned reply is not grounded in the passage it cites
        settings = bundled_engine.settings.model_copy(
            update={"llm_base_url": fake.base_url, "llm_model": fake.model, "llm_verify": False}
        )
        engine = Engine(settings, index_dir=bundled_engine.index_dir, embedder=bundled_engine.embedder)
        citations, deltas, done = _split(list(engine.stream(WHEN_QUESTION, top_k=3)))

    offered = citations.citations
    assert [citation.n for citation in offered] == [1, 2, 3]
    assert all(type(citation) is Citation and citation.sentence in citation.text for citation in offered)
    assert "".join(delta.text for delta in deltas) == "报告指出答案在第一段中[1]。"
    assert done.answer.answerer == "llm"
    # [1] of the answer is the first passage offered, cited by the same sentence
    assert done.answer.citations == (offered[0],)
