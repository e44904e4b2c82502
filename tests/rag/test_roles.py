import pytest

from rag.answering.question_types import QuestionType
from rag.answering.roles import asked_post, posts_asked_of, titled, titles_of
from rag.answering.short_answer import extract_short_answer

LEADERS = "上海市委书记陈吉宁,上海市委副书记、市长龚正;江苏省委书记信长星,江苏省委副书记、省长刘小涛;"


@pytest.mark.parametrize(
    ("question", "language", "post"),
    [
        ("Who is the mayor of Shanghai?", "en", ("市长",)),
        ("Who is Zhejiang's governor?", "en", ("省长",)),
        ("Who was the vice-governor of Jiangsu?", "en", ("副省长",)),
        ("上海市市长是谁？", "zh", ("市长",)),
        ("谁是江苏省长？", "zh", ("省长",)),
        ("江苏省委书记叫什么名字？", "zh", ("省委书记",)),
        # not asked who holds the post: someone else, or something about the holder
        ("Who appointed the governor?", "en", ()),
        ("Who is the governor's wife?", "en", ()),
        ("What did the mayor say?", "en", ()),
        ("市长说了什么？", "zh", ()),
        ("谁任命了省长？", "zh", ()),
    ],
)
def test_a_post_is_asked_only_by_a_who_is_question(question: str, language: str, post: tuple[str, ...]) -> None:
    assert asked_post(question, language) == post


def _titled(sentence: str, name: str, post: tuple[str, ...]) -> bool:
    start = sentence.index(name)
    return titled(sentence, start, start + len(name), post)


def test_a_title_run_gives_every_title_to_the_name_after_it() -> None:
    assert _titled(LEADERS, "龚正", ("市长",)) and _titled(LEADERS, "龚正", ("市委副书记",))
    assert _titled(LEADERS, "陈吉宁", ("市委书记",))
    # the other name of the list, a deputy's title, and a title past the clause break do not count
    assert not _titled(LEADERS, "陈吉宁", ("市长",))
    assert not _titled(LEADERS, "龚正", ("书记",))
    assert not _titled(LEADERS, "刘小涛", ("市长",))
    assert not _titled("省长刘小涛和市长龚正出席。", "刘小涛", ("市长",))


def test_a_title_after_the_name_counts() -> None:
    assert _titled("奥巴马总统说,", "奥巴马", ("总统",))
    sentence = "1973年 ,尼克松任命 威廉·西蒙 为联邦能源办公室首任主任,这是一个短期组织。"
    assert _titled(sentence, "威廉·西蒙", ("主任",))
    assert not _titled(sentence, "尼克松", ("主任",))  # he appointed the director


@pytest.mark.parametrize("question", ["Who is the mayor of Hangzhou?", "江苏省副省长是谁？"])
def test_a_sentence_without_the_asked_title_gives_no_name(question: str) -> None:
    """No short answer rather than another official: the answerer then refuses or quotes."""
    language = "zh" if "谁" in question else "en"
    sentence = "江苏省委书记信长星,江苏省委副书记、省长刘小涛出席会议。"
    if language == "en":
        sentence = "上海市委书记陈吉宁出席会议。"
    assert extract_short_answer(question, sentence, QuestionType.WHO, language) is None


@pytest.mark.parametrize(
    ("question", "language", "person"),
    [
        ("王浩担任的是什么职务？", "zh", "王浩"),
        ("龚正在上海担任什么职务？", "zh", "龚正"),
        ("王清宪在安徽身兼哪两个职务？", "zh", "王清宪"),
        ("What position does Liang Yanshun hold?", "en", "Liang Yanshun"),
        ("What is Gong Zheng's position?", "en", "Gong Zheng"),
        ("What is the theme of the meeting?", "en", None),
        ("会议的主题是什么？", "zh", None),
    ],
)
def test_a_persons_posts_are_asked_by_name(question: str, language: str, person: str | None) -> None:
    assert posts_asked_of(question, language) == person


def test_a_persons_titles_are_the_run_before_his_name() -> None:
    line = "浙江省委书记王浩,浙江省委副书记、省长刘捷;"
    assert titles_of("王浩", line, "zh") == "浙江省委书记"
    assert titles_of("刘捷", line, "zh") == "浙江省委副书记、省长"
    assert titles_of("Liu Jie", line, "en") == "浙江省委副书记、省长"  # found by pinyin
    # a bare list of names gives nobody a title, and someone absent has none here
    assert titles_of("王浩", "陈吉宁信长星王浩梁言顺出席", "zh") is None
    assert titles_of("陈吉宁", line, "zh") is None
