"""rag.answering.conversation: follow-up questions rewritten from the history, without an LLM."""

import pytest

from rag.answering.conversation import RewrittenQuery, Turn, answer_phrase, is_follow_up, rewrite_query

ZH_FIRST = Turn(
    "2027年度座谈会在哪里召开？", "安徽省 [1]\n\n会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。 [1]"
)
EN_FIRST = Turn(
    "which province hosts 2027?", "安徽省 [1]\n\n会议确定2027年度长三角地区主要领导座谈会在安徽省召开 [1]"
)


def test_a_new_year_is_substituted_into_the_previous_question() -> None:
    assert rewrite_query("那2028年呢？", [ZH_FIRST], "zh") == RewrittenQuery(
        "2028年度座谈会在哪里召开？", "2028年度座谈会在哪里召开？"
    )


def test_the_last_turn_is_the_one_followed_up() -> None:
    older = Turn("2026年度座谈会在哪里召开？", "上海 [1]")
    assert rewrite_query("那2028年呢？", [older, ZH_FIRST], "zh").retrieval == "2028年度座谈会在哪里召开？"


def test_an_english_follow_up_carries_the_previous_answer_phrase() -> None:
    # Not the previous question: it would pull retrieval back to the passage already answered.
    assert rewrite_query("and who is its governor?", [EN_FIRST], "en") == RewrittenQuery(
        retrieval="安徽省 and who is its governor?",
        focus="安徽省 and who is its governor?",
    )


def test_a_short_chinese_follow_up_carries_the_previous_turn() -> None:
    # No pronoun: an ellipsis keeps the previous question's subject.
    assert rewrite_query("省长是谁？", [ZH_FIRST], "zh") == RewrittenQuery(
        retrieval="2027年度座谈会在哪里召开？ 省长是谁？", focus="2027年度座谈会在哪里召开？ 省长是谁？"
    )


def test_a_pronoun_follow_up_carries_the_previous_answer_phrase() -> None:
    assert rewrite_query("它的省长是谁？", [ZH_FIRST], "zh") == RewrittenQuery(
        retrieval="安徽省 它的省长是谁？", focus="安徽省 它的省长是谁？"
    )


def test_the_same_year_is_carried_over_not_substituted() -> None:
    rewritten = rewrite_query("那2027年呢？", [ZH_FIRST], "zh")
    assert rewritten.retrieval == "2027年度座谈会在哪里召开？ 那2027年呢？"


def test_a_previous_turn_without_an_answer_carries_its_question() -> None:
    refused = Turn("2025年度座谈会在哪里召开？", "")
    assert rewrite_query("它的主题呢？", [refused], "zh") == RewrittenQuery(
        "2025年度座谈会在哪里召开？ 它的主题呢？", "2025年度座谈会在哪里召开？ 它的主题呢？"
    )


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("江苏省委书记是谁？", "zh"),
        ("举办的是第几届长三角一体化发展高层论坛？", "zh"),
        ("此次座谈会在哪里举行？", "zh"),
        ("会议期间还举行了其他哪些活动？", "zh"),
        ("Who is the Party secretary of Jiangsu?", "en"),
        ("When was the results press conference held?", "en"),
    ],
)
def test_standalone_questions_are_left_as_they_are(question: str, language: str) -> None:
    assert rewrite_query(question, [ZH_FIRST], language) == RewrittenQuery(question, question)


def test_without_history_nothing_is_rewritten() -> None:
    assert rewrite_query("那2028年呢？", [], "zh") == RewrittenQuery("那2028年呢？", "那2028年呢？")


@pytest.mark.parametrize(
    ("question", "language", "expected"),
    [
        ("那2028年呢？", "zh", True),
        ("上海呢？", "zh", True),
        ("他是哪个省的省委书记？", "zh", True),
        ("and who is its governor?", "en", True),
        ("What about Zhejiang?", "en", True),
        ("Who attended?", "en", True),  # short enough to lean on the previous turn
        ("江苏省委书记是谁？", "zh", False),
        ("Who is the governor of Zhejiang?", "en", False),
    ],
)
def test_is_follow_up(question: str, language: str, expected: bool) -> None:
    assert is_follow_up(question, language) is expected


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("安徽省 [1]\n\n会议确定…… [1]", "安徽省"),
        ("5月20日至21日 [1]", "5月20日至21日"),
        ("本报讯 座谈会在上海举行。 [1][2]\n\n更多", "本报讯 座谈会在上海举行"),
        ("The report does not say.", "The report does not say"),
        ("", ""),
        ("   \n", ""),
    ],
)
def test_answer_phrase(answer: str, phrase: str) -> None:
    assert answer_phrase(answer) == phrase
