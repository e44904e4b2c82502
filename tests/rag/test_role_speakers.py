"""A speaker named by post resolves to the holder the report names (rag.answering.role_speakers)."""

import pytest

from rag.answering.role_speakers import SpeakerByPost, holder, speaker_by_post, with_holder
from rag.engine import Engine
from rag.retrieval.glossary import Glossary

ROSTER = [
    "上海市委书记陈吉宁,上海市委副书记、市长龚正;",
    "江苏省委书记信长星,江苏省委副书记、省长刘小涛;",
    "浙江省委书记王浩,浙江省委副书记、省长刘捷;",
]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.from_lines(["浙江 浙江 [Zhe4 jiang1] /Zhejiang province in east China/"])


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("江苏省长说要融入什么样的市场？", "zh", "刘小涛说要融入什么样的市场？"),
        ("上海市委书记说了什么？", "zh", "陈吉宁说了什么？"),
        ("江苏省长在会上说了什么？", "zh", "刘小涛在会上说了什么？"),
        ("What did the governor of Zhejiang say?", "en", "What did Liu Jie say?"),
        (
            "Which strategy did Zhejiang's governor say the province would practise?",
            "en",
            "Which strategy did Liu Jie say the province would practise?",
        ),
    ],
)
def test_a_post_is_resolved_to_its_holder(question: str, language: str, expected: str, glossary: Glossary) -> None:
    asked = speaker_by_post(question, language, glossary)
    assert asked is not None
    name = holder(asked, ROSTER, glossary)
    assert name is not None and with_holder(question, language, asked, name) == expected


def test_no_post_or_no_holder_leaves_the_question_alone(glossary: Glossary) -> None:
    assert speaker_by_post("刘小涛说了什么？", "zh", glossary) is None
    assert speaker_by_post("What did the governor do?", "en", glossary) is None
    asked = speaker_by_post("安徽省长说了什么？", "zh", glossary)
    assert asked is not None and holder(asked, ROSTER, glossary) is None  # the roster lacks Anhui


def test_every_spelling_of_the_place_is_looked_for_in_sentences_read_once() -> None:
    """An English place may gloss to several spellings, and the sentences may come as a generator."""
    asked = SpeakerByPost(span=(0, 0), places=("淛江", "浙江"), post="省长")
    assert holder(asked, (sentence for sentence in ROSTER), None) == "刘捷"


def test_what_a_post_holder_said_is_answered_from_their_remarks(bundled_engine: Engine) -> None:
    answer = bundled_engine.answer("江苏省长说要融入什么样的市场？")
    assert answer.found and answer.citations
    assert "全国统一大市场" in answer.citations[0].sentence, answer.answer
