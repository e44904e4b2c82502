"""List questions: which questions ask for the members of a set, and which sentences list them."""

from __future__ import annotations

import pytest

from rag.answering.constraints import Kind, check, met, parse
from rag.answering.enumeration import MembersAsked, asked_members, listed_members, members_span, set_mention

SPEAKERS = "龚正、刘小涛、刘捷、王清宪分别代表三省一市讲话。"
MENTIONS_ONLY = "推进深层次改革和高水平开放,常态化对接上海“五个中心”建设。"


@pytest.mark.parametrize(
    ("question", "language", "asked"),
    [
        ("上海的五个中心分别指哪五个？", "zh", MembersAsked(5, "五个中心")),
        ("“八八战略”包含哪八项内容？", "zh", MembersAsked(8, "八八战略")),
        ("长三角世界级港口群具体包括哪些港口？", "zh", MembersAsked(2, "长三角世界级港口群")),
        # a set whose name counts its members: three places and one zone
        ("安徽“三地一区”具体指的是什么？", "zh", MembersAsked(4, "三地一区")),
        ("“两个确立”具体指什么？", "zh", MembersAsked(2, "两个确立")),
        ("“一网通办”具体指什么？", "zh", MembersAsked(2, "一网通办")),  # 一 inside a word counts nothing
        ("“两个确立”的具体内容是什么？", "zh", MembersAsked(2, "两个确立")),
        # a quoted word that qualifies the set's noun is part of its name
        ("“智慧港口”建设方案包含哪些具体任务？", "zh", MembersAsked(2, "“智慧港口”建设方案")),
        # a quoted name of something else than the set asked for: the authors of a paper on a chart
        ("图表“全球海温重建”所依据的论文是由哪些人写的？", "zh", MembersAsked(2, "全球海温重建", people=True, adjacent=False)),
        ('What does Anhui\'s "three places and one zone" consist of?', "en", MembersAsked(4, "")),
        ("哪几位领导代表三省一市讲话？", "zh", MembersAsked(2, "", people=True)),
        ("What are the three tiers of the cooperation mechanism?", "en", MembersAsked(3, "")),
        ('What are Zhejiang\'s "two pioneers"?', "en", MembersAsked(2, "")),
        ("Which ports make up the port cluster?", "en", MembersAsked(2, "")),
        ("What does the plan consist of?", "en", MembersAsked(2, "")),
        ("Which four leaders spoke at the briefing?", "en", MembersAsked(4, "", people=True)),
        ("Name the NDRC officials who attended the meeting.", "en", MembersAsked(2, "", people=True)),
    ],
)
def test_questions_that_ask_for_a_list(question: str, language: str, asked: MembersAsked) -> None:
    assert asked_members(question, language) == asked


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("哪一位法国皇帝颁布了这项公文？", "zh"),  # 哪一位: one
        ("童工产生的根源有哪些？", "zh"),  # often answered by one cause
        ("座谈会是哪几天召开的？", "zh"),  # a span of days
        ("除了三省一市的领导，还有哪些部门的负责同志参会？", "zh"),
        ("What are cilia used for?", "en"),
        ("What are the four regions going to nurture together?", "en"),
        ("What are the most powerful class of anti-inflammatory drugs?", "en"),
        ("How many digits does the largest known prime consist of?", "en"),
        ("What three-year plan did the meeting adopt?", "en"),  # a plan, not three of them
        ("Name the air pollution action plan adopted by the leaders.", "en"),  # one plan
    ],
)
def test_questions_that_do_not(question: str, language: str) -> None:
    assert asked_members(question, language) is None


@pytest.mark.parametrize(
    ("text", "set_name", "count"),
    [
        (SPEAKERS, "", 4),
        ("加快文化、旅游、体育跨区域融合发展,联合举办长三角消费活动。", "", 3),
        ("刘小涛说,江苏将与沪浙皖携手并进。", "", 3),  # a run of province abbreviations
        ("会议审议并原则通过《三年行动计划》《行动方案》,发布了实事项目清单等成果。", "", 2),
        ("强化“硬设施+软环境”双轮驱动。", "", 2),
        (MENTIONS_ONLY, "", 2),  # 改革和高水平开放: a pair
        # ... but not the centres: the sentence names them in another clause
        (MENTIONS_ONLY, "五个中心", 1),
        ("优化长三角世界级港口群功能布局。", "长三角世界级港口群", 1),
        ("同时,并行召开了联席会议、秘书长座谈会、主任座谈会。", "", 3),  # 同时, 并行: no conjunction
        # the set beside its siblings is not a list of its members
        ("推动先导产业积厚成势、传统产业转型升级、未来产业培育壮大。", "先导产业", 1),
        ("安徽锚定“三地一区”实现新突破和取得“三个新的更大进展”目标。", "三地一区", 1),
    ],
)
def test_members_listed(text: str, set_name: str, count: int) -> None:
    assert listed_members(text, set_name) == count


def test_a_counted_list_needs_that_many_members() -> None:
    (members,) = [c for c in parse("上海的五个中心分别指哪五个？", "zh") if c.kind is Kind.MEMBERS]
    assert members.count == 5 and members.forms == ("五个中心", "adjacent")
    assert not met(members, MENTIONS_ONLY)
    assert met(members, "上海国际经济、金融、贸易、航运、科技创新中心即五个中心。")


def test_the_list_must_be_in_the_sentence_not_its_passage() -> None:
    (members,) = [c for c in parse("哪几位领导代表三省一市讲话？", "zh") if c.kind is Kind.MEMBERS]
    (outcome,) = check([members], "会议期间举行了新闻发布会。", SPEAKERS, person_asked=True)
    assert not outcome.met
    (outcome,) = check([members], SPEAKERS, "", person_asked=True)
    assert outcome.met


@pytest.mark.parametrize(
    ("text", "span"),
    [
        (SPEAKERS, "龚正、刘小涛、刘捷、王清宪"),
        ("加快文化、旅游、体育跨区域融合发展,联合举办长三角消费活动。", "文化、旅游、体育"),  # lead-in and tail trimmed
        ("推动医疗机构检查检验结果、养老服务标准互认", "医疗机构检查检验结果、养老服务标准"),
        ("刘小涛说,江苏将与沪浙皖携手并进。", "沪浙皖"),
        ("会议通过《三年行动计划》《行动方案》,发布了清单。", "《三年行动计划》《行动方案》"),
        ("优化长三角世界级港口群功能布局。", None),
    ],
)
def test_the_list_itself_is_the_short_answer(text: str, span: str | None) -> None:
    assert members_span(text) == span


def test_people_asked_for_are_not_listed_by_offices() -> None:
    (members,) = [c for c in parse("出席会议的负责同志分别是哪几位？", "zh") if c.kind is Kind.MEMBERS]
    assert not met(members, "中央财办、国家发展改革委相关负责同志应邀出席会议。")
    assert met(members, SPEAKERS)



SIBLINGS = "会议审议通过《港口协同方案》《机场联动计划》,发布了2030年度区域重点项目清单等成果。"


@pytest.mark.parametrize(
    ("text", "set_name", "count"),
    [
        # the set named in one clause, a list in another: its siblings, not its members
        (SIBLINGS, "2030年度重点项目清单", 1),
        (SIBLINGS, "", 2),
        # a title holding the set's name lists it beside its siblings
        ("会议通过《“一码通行”三年行动计划》《大气治理方案》。", "“一码通行”三年行动计划", 1),
        # the set named where it introduces its members, or where it refers back to them
        ("五个中心包括：经济、金融、贸易、航运、科创。", "五个中心", 5),
        ("五个中心主要有以下几个,经济、金融、贸易、航运、科创。", "五个中心", 5),
        ("经济、金融、贸易、航运、科创,共同构成五个中心。", "五个中心", 5),
        ("上海国际经济、金融、贸易、航运、科技创新中心即五个中心。", "五个中心", 5),
        # a quoted list right before the set's name is its members, not its siblings
        ("推进“数字+绿色”双轮驱动,共建示范区。", "双轮驱动", 2),
    ],
)
def test_a_list_belongs_to_the_set_the_sentence_names(text: str, set_name: str, count: int) -> None:
    assert listed_members(text, set_name) == count


def test_a_set_is_found_by_its_head_as_the_sentence_writes_it() -> None:
    assert set_mention(SIBLINGS, "2030年度重点项目清单") == "重点项目清单"
    assert set_mention(SIBLINGS, "港口协同方案") == "港口协同方案"
    assert set_mention(SIBLINGS, "要发挥") == ""  # too short to stand for a set unless whole


def test_a_list_far_from_the_set_the_document_names_is_of_something_else() -> None:
    (members,) = [c for c in parse("长三角其他试点园区具体有哪些？", "zh") if c.kind is Kind.MEMBERS]
    document = "推动政策有序拓展至长三角其他试点园区。构建信息、资源、服务等协同的生态。"
    before = "推动政策有序拓展至长三角其他试点园区。"
    (outcome,) = check([members], "构建信息、资源、服务等协同的生态。", "", False, document=document, before=before)
    assert not outcome.met
    # ... unless the sentence before presents them, or this one refers back to it
    introducing = "长三角其他试点园区包括以下几个："
    (outcome,) = check([members], "苏州、嘉兴、芜湖。", "", False, document=introducing, before=introducing)
    assert outcome.met
    (outcome,) = check([members], "其中苏州、嘉兴最早。", "", False, document=document, before=before)
    assert outcome.met
    # a document that never names the set: the list's sentence may be the only word on it
    (outcome,) = check([members], "构建信息、资源、服务等协同的生态。", "", False, document="构建生态。", before="")
    assert outcome.met
