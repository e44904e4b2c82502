"""Sentence selection reads a sentence with the one before it (SentenceWeights.context_coverage):
an answer often refers back ("他们") to what the question names, which only the sentence before
says. One short real document where the sentence naming the settlers shares more of the
question's words than the one saying what land they were given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support import engine_over

from ingest.embedder import Embedder
from rag.answering.answerer import SentenceWeights
from rag.engine import Engine

SETTLERS = (
    "德国移民\n\n1820年，约三百名德国路德宗信徒乘船抵达宾夕法尼亚。当地议会随即把河谷北岸的一片林地分给了他们。"
    "\n\n宾夕法尼亚的路德宗信徒人数此后不断增加，德国移民的教堂也越来越多。"
)
QUESTION = "当地议会把哪里的林地分给了宾夕法尼亚的德国路德宗信徒？"
ANSWER_SENTENCE = "当地议会随即把河谷北岸的一片林地分给了他们。"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, cache_root: Path, embedder: Embedder) -> Engine:
    return engine_over(tmp_path_factory.mktemp("sentence_context"), {"settlers": SETTLERS}, cache_root, embedder)


def test_a_sentence_referring_back_to_what_the_question_names_answers(engine: Engine) -> None:
    answer = engine.answer(QUESTION)
    assert answer.found, answer.answer
    assert answer.citations[0].sentence == ANSWER_SENTENCE, answer.citations
    assert answer.short_answer and "河谷" in answer.short_answer, answer.short_answer


def test_read_alone_the_sentence_naming_the_settlers_wins(engine: Engine) -> None:
    # the same index without the context term: what the rule above changes
    alone = Engine(
        engine.settings,
        index_dir=engine.index_dir,
        embedder=engine.embedder,
        sentence_weights=replace(SentenceWeights(), context_coverage={}),
    )
    assert alone.answer(QUESTION).citations[0].sentence != ANSWER_SENTENCE

