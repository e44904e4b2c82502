import re
from pathlib import Path

import pytest

import ingest
from rag.answering.question_types import QuestionType, classify
from rag.answering.short_answer import extract_short_answer
from rag.answering.slots import fills_slot
from rag.language import detect_language
from rag.retrieval.glossary import Glossary

LEADERS = (
    "上海市委书记陈吉宁,上海市委副书记、市长龚正;江苏省委书记信长星,江苏省委副书记、省长刘小涛;"
    "浙江省委书记王浩,浙江省委副书记、省长刘捷;安徽省委书记梁言顺,安徽省委副书记、省长王清宪出席会议。"
)
MEETING = "本报讯 5月20日至21日,长三角地区主要领导座谈会在上海举行。"
NEXT = "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。"
FORUM = "同时,并行召开了长三角一体化发展联席会议,举办了第八届长三角一体化发展高层论坛。"
PLAN = (
    "会议审议并原则通过《长三角地区大气污染防治提质增效行动方案(2026—2028年)》,发布了2026年度实事项目清单。"
)
COUNT = "本次会议共发布 12 项合作成果,其中 3 项涉及科技创新。"
CALLED = "这一跨区域协作机制被称为“三级运作”。"
DEATH = "特斯拉于 1943 年 1 月 7 日去世。"
TITLE = "《长三角地区大气污染防治提质增效行动方案(2026—2028年)》"

REPORT = Path(ingest.__file__).parent / "corpus" / "000_a507548b56e5d456.txt"


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def answer(question: str, sentence: str, glossary: Glossary | None) -> str | None:
    language = detect_language(question)
    return extract_short_answer(question, sentence, classify(question, language), language, glossary)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # WHO: the name next to the title the question names, also when jieba does not know it.
        ("江苏省委书记是谁？", LEADERS, "信长星"),
        ("Who is the party secretary of Jiangsu?", LEADERS, "信长星"),
        ("浙江省长是谁？", LEADERS, "刘捷"),
        ("Who is the governor of Zhejiang?", LEADERS, "刘捷"),
        # the name the asked title stands with, not the nearer name of the same list
        ("Who is the mayor of Shanghai?", LEADERS, "龚正"),
        ("上海市市长是谁？", LEADERS, "龚正"),
        ("Who is the deputy party secretary of Shanghai?", LEADERS, "龚正"),
        # "以X为Y" answers "Y是什么" the other way round; "等主题" names topics, not the theme
        (
            "会议的主题是什么？",
            "会议以“奋楫扬帆‘十五五’,启航开拓新征程”为主题,围绕企业出海等主题展开深入讨论。",
            "奋楫扬帆‘十五五’,启航开拓新征程",
        ),
        (
            "What is the theme of the meeting?",
            "会议以“奋楫扬帆‘十五五’,启航开拓新征程”为主题,围绕企业出海等主题展开深入讨论。",
            "奋楫扬帆‘十五五’,启航开拓新征程",
        ),
        # a transliterated name whose first character jieba tags as a place
        ("谁是东德的最后一任总理?", "德意志民主共和国（东德）的最后一任总理 洛塔尔·德梅齐埃 也是胡格诺派后裔。", "洛塔尔·德梅齐埃"),
        # WHERE
        ("座谈会在哪里举行？", MEETING, "上海"),
        ("Where was the meeting held?", MEETING, "上海"),
        # WHICH_PLACE: a province, not the region next to the year.
        ("2027年度座谈会在哪个省召开？", NEXT, "安徽省"),
        ("Which province hosts the 2027 meeting?", NEXT, "安徽省"),
        # WHEN: the whole range; only the year when the year is asked.
        ("座谈会什么时候举行？", MEETING, "5月20日至21日"),
        ("When was the meeting held?", MEETING, "5月20日至21日"),
        ("座谈会是哪几天召开的？", MEETING, "5月20日至21日"),
        # the later event's date, where the question asks about the later event
        ("成果发布会是什么时候举行的？", "21日上午,在圆满完成座谈会各项议程后,举行了成果发布会。", "21日上午"),
        ("特斯拉是哪一年去世的？", DEATH, "1943 年"),
        ("What year did Tesla die?", DEATH, "1943 年"),
        # HOW_MANY: the unit stays unless the question already says it (多少项).
        ("会议共发布了多少项合作成果？", COUNT, "12"),
        ("How many cooperation results were released?", COUNT, "12 项"),
        # NAME of a thing: not the person beside it; of someone: the person
        ("2019年上演的那出话剧叫什么名字？", "2019年初，李明轩 在 《春江花月夜》 演出中扮演了一个角色。", "《春江花月夜》"),
        ("这位演员叫什么名字？", "2019年，演员李明轩在《春江花月夜》中扮演了主角。", "李明轩"),
        # WHO: a dotted name whole, however jieba cut its parts; asked without its dot, it is
        # in the question; the doer of a passive sentence follows 由
        ("哪位建筑师设计了这座博物馆？", "博物馆由德国建筑师戈特弗里德·森佩尔设计。", "戈特弗里德·森佩尔"),
        ("哪位女演员担任了手语翻译？", "女演员玛丽·麦特琳担任了手语翻译。", "玛丽·麦特琳"),
        ("谁扮演了玛丽安娜罗西？", "剧中的主要角色是玛丽安娜·罗西（凯特·布兰德饰）。", "凯特·布兰德"),
        (
            "1756年谁领导了新法国的援军？",
            "法国正规军增援部队于1756年5月抵达新法国，由 让•皮埃尔•德•拉瓦 率领，由德•莱维斯骑士和弗朗索瓦•德•布尔上校参与支持。",
            "让•皮埃尔•德•拉瓦",
        ),
        # ... the number in the unit the question counts in, or a share when it asks for one
        ("长三角地区的面积是多少平方英里？", "长三角地区面积35.8万平方公里,约合13.8万平方英里。", "13.8万"),
        ("这个公园里有多少种树？", "公园里共有 300 棵树,分属 45 个品种。", "45 个"),
        ("参会代表中女性的比例是多少？", "参会代表共200名,其中女性占 35%。", "35%"),
        ("What percentage of the delegates were women?", "参会代表共200名,其中女性占 35%。", "35%"),
        ("How many species of trees grow in the park?", "公园里共有 300 棵树,分属 45 个品种。", "45 个"),
        # ... and beside a count of places, the count of the asked noun
        ("How many people attended?", "共有120人出席,三省一市领导参加。", "120人"),
        # ... a fraction, and a quantity in two units, whole
        ("项目资金有多少来自社会资本？", "项目资金有三分之二来自社会资本,其余来自财政。", "三分之二"),
        ("会议持续了多少时间？", "会议在 2 小时 15 分钟后结束,共有200名代表参加。", "2 小时 15 分钟"),
        # a span of years is asked for as one ("哪几年"), not the single year of 哪一年
        ("大气污染防治方案覆盖哪几年？", PLAN, "2026—2028年"),
        ("Which years does the air pollution plan cover?", PLAN, "2026—2028年"),
        # WHICH_EDITION
        ("举办的是第几届长三角一体化发展高层论坛？", FORUM, "第八届"),
        ("Which edition of the high-level forum was held?", FORUM, "第八届"),
        # NAME: what follows 被称为, without its quotes; a document title with its marks.
        ("这一协作机制叫什么？", CALLED, "三级运作"),
        ("What is the cooperation mechanism called?", CALLED, "三级运作"),
        ("会议通过的大气污染防治方案叫什么名字？", PLAN, TITLE),
        ("What is the name of the air pollution plan?", PLAN, TITLE),
        # WHAT: titles and quoted terms only.
        ("会议通过了哪个行动方案？", PLAN, TITLE),
        ("What action plan did the meeting approve?", PLAN, TITLE),
    ],
)
def test_short_answer(question: str, sentence: str, expected: str, glossary: Glossary) -> None:
    assert answer(question, sentence, glossary) == expected


@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        ("为什么要召开座谈会？", MEETING),  # WHY
        ("Why was the meeting held?", MEETING),
        ("座谈会在上海举行吗？", MEETING),  # YESNO
        ("Was the meeting held in Shanghai?", MEETING),
        ("座谈会怎么样？", MEETING),  # OTHER
        ("How did the meeting go?", MEETING),
        ("座谈会什么时候举行？", CALLED),  # no date in the sentence
        ("When was the meeting held?", CALLED),
        ("会议的主题是什么？", MEETING),  # WHAT without a title or quote
        # an English what-question: a quoted term that is not the asked thing does not lead
        ("What kind of development highland will be built?", "强化“硬设施+软环境”双轮驱动,共同打造最优开放环境。"),
        # "2026年度座谈会" names the year's session, not when it took place
        ("座谈会是哪几天召开的？", "2026年度长三角地区主要领导座谈会在上海举行"),
        ("When was the symposium held?", "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。"),
        # the asked event stands only in "在…后": the date is the later event's
        ("When was the symposium held?", "21日上午,在圆满完成座谈会各项议程后,举行了成果发布会。"),
        ("座谈会是什么时候举行的？", "21日上午,在圆满完成座谈会各项议程后,举行了成果发布会。"),
        # a time word that places nothing in time, here inside a name (上海未来启点社区)
        ("When did the evaluation take place?", "会议期间,领导考察了上海未来启点社区和区块链创新应用相关进展。"),
        ("评估是什么时候进行的？", "目前,评估工作同时展开。"),
        # HOW_MANY: years ("2026—2028年", a score's shape) and numbers inside a title count nothing
        ("实事项目清单里一共有多少个项目？", PLAN),
        ("What is the total investment of the list of practical projects?", PLAN),
        ("一网通办计划包括多少项任务？", "通过《长三角政务服务“一网通办”三年行动计划》。"),
        # "三省一市" counts provinces and a city, not the people asked for
        ("How many people attended the symposium?", "会议期间,长三角三省一市领导考察了上海未来启点社区。"),
        # a lone letter is a variable, not a name
        ("这个表达式叫什么？", "两个整数的乘法可以写成三元组 (a, b, c)。"),
    ],
)
def test_no_short_answer(question: str, sentence: str, glossary: Glossary) -> None:
    assert answer(question, sentence, glossary) is None


def test_candidates_in_the_question_are_not_answers() -> None:
    # 2026年度 is in the question, so the date of the meeting answers it.
    question = "2026年度座谈会什么时候举行？"
    sentence = "2026年度长三角地区主要领导座谈会于5月20日举行。"
    assert extract_short_answer(question, sentence, QuestionType.WHEN, "zh") == "5月20日"
    assert extract_short_answer("5月20日举行了什么？", "5月20日举行。", QuestionType.WHEN, "zh") is None


def test_english_without_glossary_still_uses_numbers_and_names() -> None:
    assert answer("Which province hosts the 2027 meeting?", NEXT, None) == "安徽省"
    # The name found by pinyin is in the question, so it cannot be the answer.
    assert answer("Who did Xin Changxing meet?", "江苏省委书记信长星会见了浙江省委书记王浩。", None) == "王浩"


def test_bundled_report() -> None:
    """The report's own questions, and every sentence gives None or an exact substring."""
    text = REPORT.read_text(encoding="utf-8")
    sentences = [s.strip() for s in re.split(r"(?<=[。！？])|\n+", text) if s and s.strip()]

    def sentence_with(fragment: str) -> str:
        return next(s for s in sentences if fragment in s)

    assert answer("which province hosts 2027?", sentence_with("2027年度长三角"), None) == "安徽省"
    assert answer("2026年度座谈会什么时候举行？", sentence_with("本报讯"), None) == "5月20日至21日"
    assert answer("举办的是第几届长三角一体化发展高层论坛？", sentence_with("高层论坛"), None) == "第八届"
    assert answer("江苏省委书记是谁？", sentence_with("江苏省委书记"), None) == "信长星"
    assert answer("谁代表与会各方通报了座谈会成果？", sentence_with("通报了"), None) == "陈吉宁"

    questions = [
        "谁出席了会议？",
        "会议在哪里举行？",
        "什么时候举行？",
        "有多少项成果？",
        "第几届？",
        "叫什么？",
    ]
    for sentence in sentences:
        for question in questions:
            result = answer(question, sentence, None)
            assert result is None or (result.strip() and result in sentence)


def test_a_who_answer_must_be_a_person():
    from rag.answering.slots import fills_slot, looks_like_person

    assert looks_like_person("信长星") and looks_like_person("龚正、刘小涛")
    assert not looks_like_person("领导座谈会") and not looks_like_person("应邀出席")
    assert not looks_like_person("安徽省委")
    assert fills_slot("三个", "横跨沪苏浙三个省级行政区域", QuestionType.HOW_MANY)
    assert not fills_slot("60", "推动G60科创走廊建设", QuestionType.HOW_MANY)  # part of a name
    assert not fills_slot("21日", "21日上午,举行了成果发布会", QuestionType.HOW_MANY)


def test_ordinary_words_are_clearly_not_a_person():
    from rag.answering.slots import clearly_not_a_person

    assert clearly_not_a_person("领导座谈会") and clearly_not_a_person("成果发布会")
    # names, organizations and transliterations may answer a who-question
    assert not any(clearly_not_a_person(p) for p in ("王浩", "安徽省委", "凯瑟琳温克沃斯", "约什·诺曼"))


@pytest.mark.parametrize(
    ("phrase", "sentence", "fills"),
    [
        ("上海", "座谈会在上海举行。", True),  # tagged as a place
        ("安徽省", "会议在安徽省召开。", True),
        ("人民大会堂", "会议在人民大会堂举行。", True),  # an organization's tag, but after 在
        ("哈佛大学", "哈佛体育场属于哈佛大学。", True),  # a venue by its ending
        ("党委政府", "并行召开了党委政府秘书长座谈会。", False),  # who met, not where
    ],
)
def test_a_where_answer_must_be_a_place(phrase: str, sentence: str, fills: bool) -> None:
    assert fills_slot(phrase, sentence, QuestionType.WHERE) is fills


def test_alignment_counts_the_question_context_around_the_phrase() -> None:
    from rag.answering.short_answer import phrase_alignment

    question = "这次座谈会在哪里举行？"
    assert phrase_alignment(question, "长三角地区主要领导座谈会在上海举行。", "上海") >= 3.0  # 座谈会在 … 举行
    assert phrase_alignment(question, "通报了此次座谈会以及长三角一体化发展主要成果。", "长三角") == 0.0
    assert phrase_alignment(question, "座谈会在上海举行。", "杭州") == 0.0  # not in the sentence


def test_a_run_of_verbs_is_not_a_person() -> None:
    from rag.answering.slots import clearly_not_a_person

    # jieba's dictionary lists 应邀出席 ("attend on invitation") as a name (nr)
    assert clearly_not_a_person("应邀出席")
    assert not fills_slot("应邀出席", "国家发展改革委相关负责同志应邀出席会议。", QuestionType.WHO)
    for name in ("刘小涛", "司马相如", "上官婉儿"):
        assert not clearly_not_a_person(name)


def test_a_count_of_places_and_a_quoted_plan_do_not_fill_their_slots() -> None:
    # "三省一市" counts places; it answers no "which province"
    assert not fills_slot("三省", "龚正、刘小涛、刘捷、王清宪分别代表三省一市讲话。", QuestionType.WHICH_PLACE)
    assert not fills_slot("三省一市", "三省一市在上海召开会议。", QuestionType.WHERE)
    assert fills_slot("安徽省", "座谈会在安徽省召开。", QuestionType.WHICH_PLACE)
    # “十五五” names a five-year plan; it counts nothing
    assert not fills_slot("十五五", "以“奋楫扬帆‘十五五’,启航开拓新征程”为主题", QuestionType.HOW_MANY)
    assert fills_slot("三个", "跨越沪苏浙三个省级行政区域", QuestionType.HOW_MANY)


def test_a_date_inside_a_title_the_question_does_not_name_answers_no_when_question() -> None:
    plan = "会议审议并原则通过《长三角政务服务“一网通办”三年行动计划(2026—2028年)》。"
    # "when was the symposium held": the plan's years are not the meeting's date
    assert not fills_slot("2026—2028年", plan, QuestionType.WHEN, {"座谈", "谈会", "举行", "2026"})
    # "what years does the one-stop plan cover": they are the answer
    assert fills_slot("2026—2028年", plan, QuestionType.WHEN, {"一网", "网通", "通办", "计划"})
    assert fills_slot("5月20日至21日", "本报讯 5月20日至21日,座谈会在上海举行。", QuestionType.WHEN, {"座谈"})
