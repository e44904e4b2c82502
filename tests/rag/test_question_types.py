import pytest

from rag.answering.question_types import QuestionType, classify

Q = QuestionType


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("江苏省委书记是谁？", Q.WHO),
        ("哪位领导出席了会议？", Q.WHO),
        ("哪个球员拦截次数最多？", Q.WHO),
        ("座谈会在哪里举行？", Q.WHERE),
        ("会议在哪召开？", Q.WHERE),
        ("2027年度座谈会在哪个省召开？", Q.WHICH_PLACE),
        ("论坛在哪座城市举办？", Q.WHICH_PLACE),
        ("在哪个西方国家依然允许体罚？", Q.WHICH_PLACE),
        ("2026年度座谈会什么时候举行？", Q.WHEN),
        ("特斯拉是何时去世的？", Q.WHEN),
        ("特斯拉是哪一年去世的？", Q.WHEN),
        ("会议是几月召开的？", Q.WHEN),
        ("会议发布了多少项成果？", Q.HOW_MANY),
        ("有几个省参加？", Q.HOW_MANY),
        ("举办的是第几届长三角一体化发展高层论坛？", Q.WHICH_EDITION),
        ("这一机制叫什么？", Q.NAME),
        ("该方案的名称是什么？", Q.NAME),
        ("长三角一体化的主题是什么？", Q.WHAT),
        ("维多利亚州将很快失去哪种制造工厂？", Q.WHAT),  # 去哪种 is not "where"
        ("在哪场战役中，守军击退了进攻？", Q.WHAT),  # nor 在哪场 / 在哪件
        ("江苏首先要在哪件事上主动作为？", Q.WHAT),
        ("他在哪所大学读书？", Q.WHERE),
        ("为什么要共建科创中心？", Q.WHY),
        ("座谈会在上海举行吗？", Q.YESNO),
        ("会议是否通过了方案？", Q.YESNO),
        ("如何推进一体化？", Q.OTHER),
        ("几乎所有省份都参加了。", Q.OTHER),  # 几乎 is "almost", not "how many"
    ],
)
def test_classify_chinese(question: str, expected: QuestionType) -> None:
    assert classify(question, "zh") is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the party secretary of Jiangsu?", Q.WHO),
        ("Whose speech opened the meeting?", Q.WHO),
        ("What actress did the sign language?", Q.WHO),
        # a verb after "what" ends its noun phrase: what was said, not who
        ("What did Jiangsu's governor say?", Q.WHAT),
        ("What did the president sign?", Q.WHAT),
        ("Where was the 2026 meeting held?", Q.WHERE),
        ("Which province hosts the 2027 meeting?", Q.WHICH_PLACE),
        ("In what city is the forum held?", Q.WHICH_PLACE),
        ("What Western country still allows it?", Q.WHICH_PLACE),
        ("What type of city has Warsaw been?", Q.WHAT),  # a type of city is not a city
        ("When was the meeting held?", Q.WHEN),
        ("What year did Tesla die?", Q.WHEN),
        ("On what date did the meeting open?", Q.WHEN),
        ("How many projects were released?", Q.HOW_MANY),
        ("How much did it cost?", Q.HOW_MANY),
        ("What number of provinces took part?", Q.HOW_MANY),
        ("What was the final score?", Q.HOW_MANY),
        ("Which edition of the forum was held?", Q.WHICH_EDITION),
        ("What is the name of the air pollution plan?", Q.NAME),
        ("What is the mechanism called?", Q.NAME),
        ("What is the theme of the meeting?", Q.WHAT),
        ("What team did the player who scored join?", Q.WHAT),  # the first question word decides
        ("Why was the meeting held?", Q.WHY),
        ("Was the meeting held in Shanghai?", Q.YESNO),
        ("In 1972, did Norway join the European Union?", Q.YESNO),
        ("When many people are arrested, what is a common tactic?", Q.WHAT),
        ("How did the meeting go?", Q.OTHER),
        ("Name a larger car that Toyota made.", Q.WHAT),
    ],
)
def test_classify_english(question: str, expected: QuestionType) -> None:
    assert classify(question, "en") is expected


def test_mixed_question_falls_back_to_the_other_language() -> None:
    assert classify("2027年 which province", "en") is Q.WHICH_PLACE
    assert classify("2027年 which province", "zh") is Q.WHICH_PLACE
