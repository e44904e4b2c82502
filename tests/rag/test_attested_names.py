"""A transliterated name binds once the indexed text spells it so (rag.answering.answerer,
`_attested`): "特斯拉" (or "Tesla", glossed 特斯拉) is loose on its own, the text might write
泰斯拉; in a corpus that writes 特斯拉, a sentence about another man's sacks does not answer a
question about Tesla's."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import engine_over

from ingest.embedder import Embedder
from rag.engine import Engine

TESLA = "尼古拉·特斯拉\n\n特斯拉是塞尔维亚裔美国发明家,以交流电系统闻名。特斯拉晚年在纽约生活。"
PANTHERS = "黑豹队的防线\n\n防守端锋贾里德·艾伦在职业生涯中以136次擒杀成为联盟的活跃领袖。"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, cache_root: Path, embedder: Embedder) -> Engine:
    return engine_over(tmp_path_factory.mktemp("attested"), {"tesla": TESLA, "panthers": PANTHERS}, cache_root, embedder)


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("特斯拉在职业生涯中有多少次擒杀？", "特斯拉"),
        # English: "Tesla" is glossed 特斯拉 first (CC-CEDICT), which the corpus writes
        ("How many sacks did Tesla have in his career?", "Tesla"),
    ],
)
def test_a_passage_about_others_does_not_answer_for_a_name_the_corpus_spells(
    engine: Engine, question: str, name: str
) -> None:
    """(The English one is refused without the rule too, by the refusal model's low
    confidence; its evidence shows the rule.)"""
    evidence = engine.evidence(question)
    # only Tesla's passage is verified: the Panthers' sentence does not name him
    assert [item.chunk.doc_id for item in evidence.ranked if "特斯拉" not in item.chunk.text] == []
    assert [c.strict for c in evidence.constraints if c.surface == name] == [True]
    answer = engine.answer(question)
    assert not answer.found and answer.short_answer is None, answer.answer
    assert all("特斯拉" in citation.text for citation in answer.citations)  # a partial refusal cites Tesla


def test_the_same_question_about_the_right_man_is_answered(engine: Engine) -> None:
    answer = engine.answer("贾里德·艾伦在职业生涯中有多少次擒杀？")
    assert answer.found and answer.short_answer is not None and "136" in answer.short_answer, answer.answer
    tesla = engine.answer("特斯拉晚年在哪里生活？")
    assert tesla.found and tesla.short_answer == "纽约", tesla.answer
