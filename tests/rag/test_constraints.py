"""Question constraints: what a question pins down, and whether a sentence meets it."""

from __future__ import annotations

import pytest

from rag.answering.constraints import (
    Kind,
    absent,
    binding,
    check,
    document_bound,
    mentioned,
    met,
    named_in_document,
    names_place_type,
    parse,
    spoken_by,
)
from rag.retrieval.glossary import Glossary

SHANGHAI = "上海市委书记陈吉宁,上海市委副书记、市长龚正;"
JIANGSU = "江苏省委书记信长星,江苏省委副书记、省长刘小涛;"


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.from_lines(
        [
            "杭州 杭州 [Hang2 zhou1] /Hangzhou subprovincial city and capital of Zhejiang/",
            "預算 预算 [yu4 suan4] /budget/",
        ]
    )


def kinds(constraints) -> list[tuple[str, str]]:
    return [(c.kind.value, c.surface) for c in constraints]


def test_zh_role_and_entity_are_parsed():
    assert kinds(parse("江苏省副省长是谁？", "zh")) == [("entity", "江苏省"), ("role", "副省长"), ("titled", "江苏省副省长")]


def test_zh_deputy_title_does_not_meet_the_plain_title():
    (role,) = [c for c in parse("江苏省副省长是谁？", "zh") if c.kind is Kind.ROLE]
    assert not met(role, JIANGSU)
    (governor,) = [c for c in parse("江苏省长是谁？", "zh") if c.kind is Kind.ROLE]
    assert governor.surface == "省长"
    assert met(governor, JIANGSU)  # 、省长刘小涛
    assert not met(governor, "江苏省副省长某某")


def test_en_mayor_of_another_city_fails_on_the_shanghai_sentence(glossary):
    constraints = parse("Who is the mayor of Hangzhou?", "en", glossary)
    assert kinds(constraints) == [("entity", "Hangzhou"), ("role", "mayor")]
    checks = check(constraints, SHANGHAI, "2026年度长三角地区主要领导座谈会在上海举行", person_asked=True)
    assert [(c.constraint.surface, c.met) for c in checks] == [("Hangzhou", False), ("mayor", True)]
    assert [(c.constraint.surface, c.met) for c in check(constraints, "杭州市长某某", "", True)] == [
        ("Hangzhou", True),
        ("mayor", True),
    ]


def test_pinyin_names_are_met_by_the_characters_that_spell_them():
    (name,) = [c for c in parse("What did Liu Xiaotao say?", "en") if c.kind is Kind.ENTITY]
    assert name.pinyin_name and name.strict
    assert met(name, JIANGSU)
    assert not met(name, SHANGHAI)


def test_english_words_that_are_not_names_bind_nothing(glossary):
    constraints = parse("According to the meeting, which AI initiative is planned?", "en", glossary)
    assert not any(binding(c, person_asked=False) for c in constraints)


def test_a_capitalized_english_word_that_spells_pinyin_is_not_a_name():
    dictionary = Glossary.from_lines(
        ["房子 房子 [fang2 zi5] /house/", "南京 南京 [Nan2 jing1] /Nanjing subprovincial city on the Changjiang/"]
    )
    entities = {c.surface: c for c in parse("What did the House say about Nanjing?", "en", dictionary) if c.kind is Kind.ENTITY}
    # "House" reads hou-se, but the dictionary renders it as a common word: not sure enough to refuse on
    assert entities["House"].pinyin_name and not entities["House"].strict
    assert entities["Nanjing"].strict


def test_attributes_must_be_in_the_sentence():
    constraints = parse("长三角的人口是多少？", "zh")
    assert ("attribute", "人口") in kinds(constraints)
    checks = check(constraints, "长三角地区主要领导座谈会在上海举行", "长三角人口很多", person_asked=False)
    assert [(c.constraint.surface, c.met) for c in checks if c.constraint.kind is Kind.ATTRIBUTE] == [("人口", False)]


def test_en_attribute_only_when_asked_about(glossary):
    assert ("attribute", "the budget") in kinds(parse("What was the budget of the meeting?", "en", glossary))
    assert not [c for c in parse("Which activities will boost spending?", "en", glossary) if c.kind is Kind.ATTRIBUTE]


def test_years_and_ordinals_may_be_met_by_the_passage():
    constraints = parse("2028年度座谈会在哪里召开？", "zh")
    assert kinds(constraints) == [("year", "2028")]
    assert not check(constraints, "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。", "", False)[0].met
    ordinal = parse("第九届高层论坛在哪里举办？", "zh")
    assert [c.forms for c in ordinal if c.kind is Kind.ORDINAL] == [("第九",)]
    assert met(ordinal[-1], "举办了第九届长三角一体化发展高层论坛")
    en = [c for c in parse("Where was the 8th high-level forum held?", "en") if c.kind is Kind.ORDINAL]
    assert en[0].forms == ("第8", "第八")


def test_a_passage_about_several_years_lends_none_of_them_to_a_sentence():
    constraints = parse("2027年度座谈会的主题是什么？", "zh")
    sentence = "会议首次创新设置边会活动,围绕企业出海服务协同发展等主题展开深入讨论。"
    # the passage names only the asked year: the sentence is read as about it
    assert check(constraints, sentence, "2027年度座谈会在安徽省召开", False)[0].met
    # the passage names 2026 too: which year the sentence is about, only the sentence can say
    several = "2026年度座谈会在上海举行。会议确定,2027年度座谈会在安徽省召开。"
    assert not check(constraints, sentence, several, False)[0].met
    assert check(constraints, "2027年度座谈会以开放为主题。", several, False)[0].met


def test_a_sentence_retelling_a_dated_one_of_its_passage_takes_that_year():
    dateline = "本报讯 5月20日至21日,长三角地区主要领导座谈会在上海举行。"
    passage = "2026年度长三角地区主要领导座谈会在上海举行\n\n会议确定2027年度长三角地区主要领导座谈会在安徽省召开"
    # the dateline retells the 2026 headline (在上海举行), not the 2027 line
    assert check(parse("2026年度座谈会是哪天举行的？", "zh"), dateline, passage, False)[0].met
    assert not check(parse("2027年度座谈会是哪天举行的？", "zh"), dateline, passage, False)[0].met


def test_first_time_is_not_an_ordinal():
    assert not [c for c in parse("这次会议第一次设置了什么活动？", "zh") if c.kind is Kind.ORDINAL]
    assert not [c for c in parse("What was held for the first time?", "en") if c.kind is Kind.ORDINAL]


def test_province_abbreviations_count_only_in_a_run():
    (zhejiang,) = [c for c in parse("浙江要与哪两个省携手？", "zh") if c.kind is Kind.ENTITY]
    assert met(zhejiang, "与沪苏浙皖携手")
    assert not met(zhejiang, "浙大")  # a lone 浙 is not the province


def test_roles_bind_the_sentence_only_when_the_person_is_asked():
    (role,) = [c for c in parse("江苏省长在讲话中说要挖掘什么？", "zh") if c.kind is Kind.ROLE]
    assert not binding(role, person_asked=False)
    assert binding(role, person_asked=True)


def test_absent_lists_what_the_text_never_says():
    constraints = parse("安徽省的省会是哪里？", "zh")
    report = "安徽省委书记梁言顺,安徽省委副书记、省长王清宪出席会议。"
    assert [c.surface for c in absent(constraints, lambda c: met(c, report))] == ["省会"]


def test_only_sure_names_are_strict():
    strictness = {c.surface: c.strict for c in parse("约翰·埃尔维在第 33 届超级碗中为谁效力？", "zh")}
    assert strictness["埃尔维"] is False  # a transliteration the text may spell otherwise
    dictionary = Glossary.from_lines(
        ["江蘇 江苏 [Jiang1 su1] /Jiangsu province/", "高山 高山 [gao1 shan1] /high mountain/"]
    )
    # a proper noun in the dictionary and a Chinese personal name are sure; a common noun is not
    entities = [c for c in parse("刘小涛说江苏要深入践行什么战略？", "zh", dictionary) if c.kind is Kind.ENTITY]
    assert {c.surface: c.strict for c in entities} == {
        "刘小涛": True,
        "江苏": True,
    }
    high = [c for c in parse("高山冰川开始发生什么变化？", "zh", dictionary) if c.surface == "高山"]
    assert all(not c.strict for c in high)


def test_a_common_noun_jieba_tags_as_a_name_is_not_strict():
    # 申请人 starts with a surname and jieba tags it nr, but the dictionary reads it "applicant"
    dictionary = Glossary.from_lines(["申請人 申请人 [shen1 qing3 ren2] /applicant/"])
    entities = {c.surface: c.strict for c in parse("申请人需要提交什么材料？", "zh", dictionary) if c.kind is Kind.ENTITY}
    assert entities.get("申请人", False) is False
    assert {c.surface: c.strict for c in parse("刘小涛说了什么？", "zh", dictionary)}["刘小涛"] is True


def test_a_what_question_names_the_document_its_answer_comes_from():
    dictionary = Glossary.from_lines(["復旦大學 复旦大学 [Fu4 dan4 Da4 xue2] /Fudan University/"])
    (school,) = [c for c in parse("复旦大学的校训是什么？", "zh", dictionary) if c.kind is Kind.ENTITY]
    # the sentence need not name it (a subject named paragraphs before), its document must
    assert not binding(school, person_asked=False, fact_asked=False)
    assert document_bound(school, fact_asked=False)
    assert not document_bound(school, fact_asked=True)  # a typed question binds the passage instead
    assert named_in_document(school, "复旦大学简介\n学校位于上海市杨浦区。")
    assert not named_in_document(school, "清华大学的校训是自强不息、厚德载物。")


def test_a_long_chinese_name_is_named_by_its_usual_short_form():
    dictionary = Glossary.from_lines(["北京大學 北京大学 [Bei3 jing1 Da4 xue2] /Peking University/"])
    (school,) = [c for c in parse("北京大学的校训是什么？", "zh", dictionary) if c.kind is Kind.ENTITY]
    assert named_in_document(school, "北大的校训是爱国、进步、民主、科学。")
    assert not named_in_document(school, "北京的大学很多。")  # not 北大 as a run
    # a personal name has no short form: 刘涛 is someone else
    (person,) = [c for c in parse("刘小涛说了什么？", "zh") if c.kind is Kind.ENTITY]
    assert not named_in_document(person, "刘涛说要挖掘潜力。")


def test_spaces_do_not_count():
    (ordinal,) = [c for c in parse("约翰·埃尔维在第 33 届超级碗中为谁效力？", "zh") if c.kind is Kind.ORDINAL]
    assert met(ordinal, "他在第33届超级碗中") and met(ordinal, "在 第 33 届")


def test_first_edition_is_an_ordinal_either_way():
    (zh,) = [c for c in parse("首届长三角一体化发展高层论坛在哪里举办？", "zh") if c.kind is Kind.ORDINAL]
    (en,) = [c for c in parse("Where was the first high-level forum held?", "en") if c.kind is Kind.ORDINAL]
    for ordinal in (zh, en):
        assert met(ordinal, "举办了第一届高层论坛") and met(ordinal, "首届论坛")
        assert not met(ordinal, "举办了第八届长三角一体化发展高层论坛")
    assert not [c for c in parse("Was this the first time the meeting had side events?", "en") if c.kind is Kind.ORDINAL]
    # a plural possessive between the ordinal and its gathering: "the first … leaders' symposium"
    (possessive,) = [c for c in parse("When was the first Yangtze River Delta leaders' symposium held?", "en") if c.kind is Kind.ORDINAL]
    assert possessive.forms[0] == "首届"


def test_specific_party_posts_are_roles_of_their_own():
    (role,) = [c for c in parse("浙江省纪委书记是谁？", "zh") if c.kind is Kind.ROLE]
    assert role.surface == "纪委书记" and not met(role, "浙江省委书记王浩")
    (en,) = [c for c in parse("Who is the discipline inspection chief of Jiangsu?", "en") if c.kind is Kind.ROLE]
    assert en.forms == ("纪委书记",)
    (director,) = [c for c in parse("Who is the director of the cooperation office?", "en") if c.kind is Kind.ROLE]
    assert met(director, "博物馆的首任馆长亨利·科尔") and not met(director, "省长刘小涛")


def test_the_place_of_a_party_committee_is_the_entity():
    dictionary = Glossary.from_lines(["福建 福建 [Fu2 jian4] /Fujian province/"])
    entities = [c for c in parse("福建省委书记是谁？", "zh", dictionary) if c.kind is Kind.ENTITY]
    assert [(c.surface, c.strict) for c in entities] == [("福建", True)]
    assert not met(entities[0], "浙江省委书记王浩")


def test_birthplace_is_asked_wherever_it_stands():
    (born,) = [c for c in parse("Where was Chen Jining born?", "en") if c.kind is Kind.ATTRIBUTE]
    assert met(born, "陈吉宁1964年出生于吉林") and not met(born, "上海市委书记陈吉宁")
    assert not [c for c in parse("How many same-sex married couples were there?", "en") if c.kind is Kind.ATTRIBUTE]


def test_a_lone_pinyin_place_name_binds():
    (nanjing,) = [c for c in parse("Who is the mayor of Nanjing?", "en") if c.kind is Kind.ENTITY]
    assert nanjing.strict and nanjing.pinyin_name
    assert met(nanjing, "南京市市长") and not met(nanjing, "上海市委副书记、市长龚正")


def test_a_sentence_quoting_someone_else_does_not_answer_for_the_speaker_asked():
    (zh,) = [c for c in parse("刘小涛说江苏要深入践行什么战略？", "zh") if c.kind is Kind.SPEAKER]
    assert not met(zh, "刘捷说,浙江将深入践行“八八战略”。")
    assert met(zh, "刘小涛说,我们将与沪浙皖携手并进。")
    assert met(zh, "我们将与沪浙皖携手并进。")  # quoting nobody: may continue his remarks
    (en,) = [c for c in parse("What did Liu Xiaotao say Jiangsu would do?", "en") if c.kind is Kind.SPEAKER]
    assert not met(en, "刘捷说,浙江将深入践行“八八战略”。") and met(en, "刘小涛说,我们将携手并进。")
    assert not [c for c in parse("What did the meeting say about ports?", "en") if c.kind is Kind.SPEAKER]


SPEECHES = (
    f"{JIANGSU}\n\n会议指出,要共促公共服务便利共享。\n\n刘小涛说,我们将与沪浙皖携手并进。要强化规则标准衔接。"
    "\n\n务便利共享,构建长三角区域发展共同体。\n\n刘捷说,浙江将深入践行“八八战略”。要携手打造创新高地。"
)


def continued(sentence: str) -> str:
    return SPEECHES[: SPEECHES.index(sentence)]


def test_a_sentence_quoting_nobody_continues_the_last_speaker_before_it():
    (asked,) = [c for c in parse("刘小涛说江苏要构建什么共同体？", "zh") if c.kind is Kind.SPEAKER]
    held = [c.met for c in check([asked], "要强化规则标准衔接。", "", False, False, before=continued("要强化规则标准衔接。"))]
    assert held == [True]
    # his remarks run on past a paragraph break, up to the next speaker
    later = "务便利共享,构建长三角区域发展共同体。"
    assert [c.met for c in check([asked], later, "", False, False, before=continued(later))] == [True]
    # the roster line names him but quotes no one: before it, nobody has spoken
    assert [c.met for c in check([asked], JIANGSU, "", False, False, before="")] == [False]
    # after another speaker took over, a sentence continues that one's remarks
    other = "要携手打造创新高地。"
    assert [c.met for c in check([asked], other, "", False, False, before=continued(other))] == [False]
    # the meeting is a speaker too
    shared = "会议指出,要共促公共服务便利共享。"
    assert [c.met for c in check([asked], shared, "", False, False, before=continued(shared))] == [False]
    sentences = [s + "。" for part in SPEECHES.split("\n\n") for s in part.split("。") if s]
    theirs = [sentence for sentence, spoken in zip(sentences, spoken_by(asked, sentences), strict=True) if spoken]
    assert theirs == ["刘小涛说,我们将与沪浙皖携手并进。", "要强化规则标准衔接。", "务便利共享,构建长三角区域发展共同体。"]


def test_a_province_is_not_a_speaker_whose_remarks_can_be_told_apart():
    assert not [c for c in parse("浙江说要靠“硬设施+软环境”怎样驱动？", "zh") if c.kind is Kind.SPEAKER]
    zhejiang = Glossary.from_lines(["浙江 浙江 [Zhe4 jiang1] /Zhejiang province in east China/"])
    assert not [
        c
        for c in parse("Which strategy did Zhejiang say it would practise?", "en", zhejiang)
        if c.kind is Kind.SPEAKER
    ]
    assert [c for c in parse("Which strategy did Liu Jie say Zhejiang would practise?", "en") if c.kind is Kind.SPEAKER]


def test_a_title_naming_a_meeting_holds_no_one():
    (role,) = [c for c in parse("执委会主任是谁？", "zh") if c.kind is Kind.ROLE]
    meeting = "并行召开了党委政府研究室主任座谈会。"
    assert not met(role, meeting)  # no director in a directors' meeting
    assert mentioned(role, meeting)  # but the report does mention directors
    assert met(role, "研究室主任张三出席。")


def test_a_kind_of_place_asked_for_must_be_named():
    dictionary = Glossary.from_lines(
        [
            "合肥 合肥 [He2 fei2] /Hefei prefecture-level city and capital of Anhui Province 安徽省[An1 hui1 Sheng3]/",
            "安徽省 安徽省 [An1 hui1 Sheng3] /Anhui Province (Anhwei) in south central China, capital Hefei 合肥[He2 fei2]/",
            "長三角 长三角 [Chang2 San1 jiao3] /Yangtze River Delta/",
        ]
    )
    for question, language in (("2027年度座谈会在安徽省的哪座城市召开？", "zh"), ("In which Anhui city will it be held?", "en")):
        (city,) = [c for c in parse(question, language, dictionary) if c.kind is Kind.PLACE_TYPE]
        # the province (whose sense mentions its capital) and the delta are not cities
        assert not met(city, "2027年度长三角地区主要领导座谈会在安徽省召开。", dictionary)
        assert met(city, "2027年度座谈会在安徽省合肥召开。", dictionary)
        assert met(city, "座谈会在安徽省芜湖市召开。", dictionary)  # by its suffix
    # not a kind of place: a province is named inside titles ("安徽省委书记")
    assert not [c for c in parse("梁言顺是哪个省的省委书记？", "zh", dictionary) if c.kind is Kind.PLACE_TYPE]


def test_only_a_name_of_the_asked_kind_of_place_counts():
    dictionary = Glossary.from_lines(
        [
            "城市 城市 [cheng2 shi4] /city; town/",
            "墨爾本 墨尔本 [Mo4 er3 ben3] /Melbourne, Australia/",
            "虹橋 虹桥 [Hong2 qiao2] /Hongqiao, the name of numerous entities, notably a major airport in Shanghai/",
            "蘇州 苏州 [Su1 zhou1] /Suzhou prefecture level city in Jiangsu/",
        ]
    )
    (city,) = [c for c in parse("Which city has the biggest population?", "en", dictionary) if c.kind is Kind.PLACE_TYPE]
    assert not met(city, "长三角三省一市领导考察了社区。", dictionary)  # 三省, 一市 count places
    assert not met(city, "这是人口最多的城市。", dictionary)  # the common noun, not a city's name
    assert met(city, "杰克逊维尔 是人口最多的城市。", dictionary)  # a transliteration jieba cuts in two
    assert met(city, "墨尔本是人口最多的城市。", dictionary)  # a name of no stated kind
    (district,) = [c for c in parse("上海未来启点社区位于哪个区？", "zh", dictionary) if c.kind is Kind.PLACE_TYPE]
    assert not met(district, "共建长江口产业创新绿色发展协同区。", dictionary)  # no name the dictionary knows
    assert not met(district, "推进虹桥国际开放枢纽建设。", dictionary)  # the name of many kinds of thing
    assert not met(district, "推进上海与苏州重点领域同城化发展。", dictionary)  # a city, not a district


def test_several_places_of_a_kind_asked_for_are_a_list_of_them():
    dictionary = Glossary.from_lines(
        [
            "上海 上海 [Shang4 hai3] /Shanghai municipality, central east China/",
            "蘇州 苏州 [Su1 zhou1] /Suzhou prefecture level city in Jiangsu/",
        ]
    )
    for question, language in (("皖北参与结对合作的具体是哪些城市？", "zh"), ("Which counties border the lake?", "en")):
        constraints = parse(question, language, dictionary)
        assert [c for c in constraints if c.kind is Kind.PLACE_TYPE]
    constraints = [c for c in parse("皖北参与结对合作的具体是哪些城市？", "zh", dictionary) if c.kind in (Kind.PLACE_TYPE, Kind.MEMBERS)]
    # a run of province abbreviations names no city; a list beside a city is not a list of cities
    assert not all(c.met for c in check(constraints, "深化沪苏浙与皖北地区城市结对合作。", "", False, translator=dictionary))
    assert not all(c.met for c in check(constraints, "以上海为引领,以更大力度、更实举措推进。", "", False, translator=dictionary))
    assert all(c.met for c in check(constraints, "推进上海与苏州结对合作。", "", False, translator=dictionary))


def test_a_code_of_capitals_and_digits_binds_as_written():
    constraints = parse("Which cities does the G60 corridor run through?", "en")
    codes = [c for c in constraints if c.kind is Kind.ENTITY and c.strict]
    assert [c.forms for c in codes] == [("G60",)]
    assert not [c for c in constraints if c.surface == "G"]
    assert met(codes[0], "推动G60科创走廊建设。") and not met(codes[0], "推动科创走廊建设。")
    # measures and words with a digit are not codes
    assert not [c for c in parse("Who scored the 2-yard touchdown for internet2?", "en") if c.kind is Kind.ENTITY and c.strict]


def test_the_answer_phrase_itself_must_be_of_the_asked_kind_of_place():
    dictionary = Glossary.from_lines(
        [
            "上海 上海 [Shang4 hai3] /Shanghai municipality, central east China/",
            "長三角 长三角 [Chang2 San1 jiao3] /Yangtze River Delta/",
            "中國 中国 [Zhong1 guo2] /China/",
            "安徽省 安徽省 [An1 hui1 Sheng3] /Anhui Province (Anhwei) in south central China, capital Hefei 合肥[He2 fei2]/",
            "墨爾本 墨尔本 [Mo4 er3 ben3] /Melbourne, Australia/",
            "閔行區 闵行区 [Min3 hang2 Qu1] /Minhang District of Shanghai/",
        ]
    )
    (city,) = [c for c in parse("Which city hosted this year's meeting?", "en", dictionary) if c.kind is Kind.PLACE_TYPE]
    # the sentence "长三角地区…座谈会在上海举行" meets it; of its places only 上海 answers
    assert [p for p in ("上海", "长三角", "中国", "安徽省", "美丽中国") if names_place_type(city, p, dictionary)] == ["上海"]
    assert names_place_type(city, "墨尔本", dictionary) and names_place_type(city, "芜湖市", dictionary)
    assert names_place_type(city, "杰克逊维尔", dictionary)  # unknown to the dictionary, a transliteration
    (district,) = [c for c in parse("上海未来启点社区位于哪个区？", "zh", dictionary) if c.kind is Kind.PLACE_TYPE]
    assert names_place_type(district, "闵行区", dictionary) and not names_place_type(district, "上海", dictionary)


def test_a_place_jieba_calls_a_common_noun_is_named_before_a_title():
    dictionary = Glossary.from_lines(
        [
            "合肥 合肥 [He2 fei2] /Hefei prefecture-level city and capital of Anhui Province/",
            "長子 长子 [Zhang3 zi3] /Zhangzi county in Shanxi/eldest son/",
        ]
    )
    hefei = [c for c in parse("合肥市委书记是谁？", "zh", dictionary) if c.kind is Kind.ENTITY]
    assert [(c.surface, c.strict) for c in hefei] == [("合肥", True)]
    # a homograph whose first sense is a place, not before a title: the eldest son
    assert not [c for c in parse("他的长子叫什么名字？", "zh", dictionary) if c.kind is Kind.ENTITY]


def test_a_named_event_is_a_sure_name_but_a_nationality_is_not():
    dictionary = Glossary.from_lines(
        [
            "世界杯 世界杯 [Shi4 jie4 bei1] /World Cup/",
            "英國人 英国人 [Ying1 guo2 ren2] /British person/",
        ]
    )
    strictness = {c.surface: c.strict for c in parse("2026年世界杯在哪里举办？", "zh", dictionary) if c.kind is Kind.ENTITY}
    assert strictness.get("世界杯") is True
    people = [c for c in parse("英国人什么时候开始建造堡垒？", "zh", dictionary) if c.surface == "英国人"]
    assert all(not c.strict for c in people)


def test_a_theme_is_an_attribute():
    (theme,) = [c for c in parse("What will be the theme of the 2027 symposium?", "en") if c.kind is Kind.ATTRIBUTE]
    assert met(theme, "以“奋楫扬帆‘十五五’,启航开拓新征程”为主题")
    assert not met(theme, "2027年度长三角地区主要领导座谈会在安徽省召开。")


def test_an_institution_asked_for_must_be_named():
    (university,) = [c for c in parse("Which university hosted the forum?", "en") if c.kind is Kind.PLACE_TYPE]
    assert not met(university, "举办了第八届长三角一体化发展高层论坛。", Glossary.from_lines([]))
    assert met(university, "论坛在复旦大学举办。", Glossary.from_lines([]))
    (zh,) = [c for c in parse("论坛在哪所大学举办？", "zh") if c.kind is Kind.PLACE_TYPE]
    assert met(zh, "论坛在复旦大学举办。", Glossary.from_lines([]))
    # asks for a person, and companies go by names without 公司: no kind to check
    assert not [c for c in parse("What university alumni member won the prize?", "en") if c.kind is Kind.PLACE_TYPE]
    assert not [c for c in parse("Which company built the stadium?", "en") if c.kind is Kind.PLACE_TYPE]


def test_a_venue_and_a_capacity_asked_for_must_be_named():
    empty = Glossary.from_lines([])
    (venue,) = [c for c in parse("座谈会在上海的哪个场馆举行？", "zh") if c.kind is Kind.PLACE_TYPE]
    assert not met(venue, "2026年度长三角地区主要领导座谈会在上海举行", empty)
    assert met(venue, "座谈会在上海国际会议中心举行", empty)
    (capacity,) = [c for c in parse("What installed capacity of offshore wind power is planned?", "en") if c.kind is Kind.ATTRIBUTE]
    assert not met(capacity, "推进深远海海上风电开发") and met(capacity, "新增装机容量500万千瓦")


def test_who_held_a_post_before_is_an_attribute_the_roster_does_not_state():
    roster = "安徽省委书记梁言顺,安徽省委副书记、省长王清宪出席会议。"
    for question, language in (
        ("Who was Anhui's Party secretary before Liang Yanshun?", "en"),
        ("What post did Gong Zheng hold before becoming mayor?", "en"),
        ("安徽省委书记的前任是谁？", "zh"),
    ):
        (tenure,) = [c for c in parse(question, language) if c.kind is Kind.ATTRIBUTE]
        assert not met(tenure, roster) and met(tenure, "梁言顺的前任郑栅洁曾任安徽省委书记。"), question
    # "before" a date or an event is not a tenure
    assert not [c for c in parse("What happened before the meeting?", "en") if c.kind is Kind.ATTRIBUTE]


ROSTER = SHANGHAI + JIANGSU + "浙江省委书记王浩,浙江省委副书记、省长刘捷;"


def titled(question: str, language: str = "zh"):
    return next(c for c in parse(question, language) if c.kind is Kind.TITLED)


@pytest.mark.parametrize(
    ("question", "surface", "given"),
    [
        ("浙江省委书记王浩说了什么？", "浙江省委书记王浩", True),
        # the report titles him otherwise: the premise is false
        ("安徽省委书记王浩说了什么？", "安徽省委书记王浩", False),
        ("江苏省长王浩说了什么？", "江苏省长王浩", False),
        ("上海市长陈吉宁出席了吗？", "上海市长陈吉宁", False),
        # two titles in a run, both his
        ("浙江省委副书记、省长刘捷在会上说了什么？", "浙江省委副书记、省长刘捷", True),
        # a title with a place and no name: someone must hold it there
        ("上海市长在会上说了什么？", "上海市长", True),
        ("苏州市长在会上说了什么？", "苏州市长", False),
    ],
)
def test_a_title_the_question_gives_is_checked_against_the_report(question: str, surface: str, given: bool):
    constraint = titled(question)
    assert constraint.surface == surface
    assert met(constraint, ROSTER) is given
    # a premise of the question, not something the answering sentence repeats
    assert not binding(constraint, person_asked=True)


def test_a_place_jieba_takes_for_a_name_still_qualifies_the_title_after_it():
    constraint = titled("出席会议的嘉兴市长叫什么名字？")
    assert constraint.qualifier == ("嘉兴",) and not met(constraint, ROSTER)


def test_a_name_the_text_gives_no_title_neither_bears_out_nor_contradicts_one():
    constraint = titled("美国总统奥巴马在哪里出生？")
    assert constraint.holder == ("奥巴马",) and constraint.qualifier == ("美国",)
    assert met(constraint, "奥巴马出生于夏威夷。")
    assert met(constraint, "奥巴马总统出生于夏威夷。")
    assert not met(constraint, "法国总统奥巴马出生于夏威夷。")


# CC-CEDICT's senses for two provinces: Anhui is glossed only as "Anhui Province".
PROVINCE_SENSES = [
    "江蘇 江苏 [Jiang1 su1] /Jiangsu province (Su) in southeast China, abbr. 蘇|苏, capital Nanjing 南京/",
    "安徽 安徽 [An1 hui1] /Anhui Province (Wan) in south central China, abbr. 皖, capital Hefei 合肥/",
]


def test_an_english_title_is_checked_like_a_chinese_one():
    gloss = Glossary.from_lines(PROVINCE_SENSES)
    right = next(c for c in parse("What did Jiangsu governor Liu Xiaotao say?", "en", gloss) if c.kind is Kind.TITLED)
    wrong = next(c for c in parse("What did Anhui governor Liu Xiaotao say?", "en", gloss) if c.kind is Kind.TITLED)
    assert right.surface == "Jiangsu governor Liu Xiaotao" and right.forms == ("省长",)
    assert met(right, ROSTER) and not met(wrong, ROSTER)


@pytest.mark.parametrize(
    ("question", "language", "forms"),
    [
        ("谁主持了座谈会？", "zh", ("主持",)),
        ("座谈会上签署了哪些协议？", "zh", ("签",)),
        ("Who chaired the press conference?", "en", ("主持",)),
        ("What was signed at the symposium?", "en", ("签",)),
    ],
)
def test_an_act_asked_by_its_verb_must_be_in_the_report(question: str, language: str, forms: tuple[str, ...]):
    act = next(c for c in parse(question, language) if c.kind is Kind.ACT)
    assert act.forms == forms
    assert not met(act, "陈吉宁代表与会各方通报了此次座谈会以及长三角一体化发展主要成果。")
    # the report as a whole, not the answering sentence: "1992年的《马斯特里赫特条约》" dates a
    # signing without the verb
    assert not binding(act, person_asked=True)


@pytest.mark.parametrize("question", ["Who is the chair of the IPCC?", "Who did the sign language?"])
def test_the_nouns_chair_and_sign_are_not_acts(question: str):
    assert not [c for c in parse(question, "en") if c.kind is Kind.ACT]


def test_a_title_inside_a_run_of_capitals_parts_two_names():
    names = [c.surface for c in parse("What did Anhui Governor Wang Qingxian say?", "en") if c.kind is Kind.ENTITY]
    assert names == ["Anhui", "Wang Qingxian"]


def test_a_province_glossed_only_with_its_word_is_still_a_place():
    gloss = Glossary.from_lines(PROVINCE_SENSES)
    anhui = next(c for c in parse("What did Anhui governor Liu Xiaotao say?", "en", gloss) if c.surface == "Anhui")
    assert anhui.forms[:1] == ("安徽",)
