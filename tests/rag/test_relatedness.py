"""Whether an English question relates to the report at all (rag.answering.relatedness)."""

from rag.answering.relatedness import content_words, relates, shares_nothing, unrelated
from rag.answering.report_mentions import ReportMentions
from rag.engine import Engine
from rag.retrieval.glossary import Glossary

REPORT = [
    "2027年度长三角地区主要领导座谈会在安徽省召开。",
    "国家发展改革委(NDRC)相关负责同志出席。",
    "加快中欧班列集结中心建设，扩大高水平对外开放。会议日期另行通知。座谈会圆满成功。",
]
DICTIONARY = Glossary.from_lines(
    [
        "省份 省份 [sheng3 fen4] /province/",
        "省 省 [sheng3] /province/",
        "主持 主持 [zhu3 chi2] /to host/",
        "路由器 路由器 [lu4 you2 qi4] /router/",
        "重置 重置 [chong2 zhi4] /to reset/",
        "菜譜 菜谱 [cai4 pu3] /recipe/",
        "座談會 座谈会 [zuo4 tan2 hui4] /symposium/",
        "中心 中心 [zhong1 xin1] /center/",
        "開放 开放 [kai1 fang4] /opening/",
        "日期 日期 [ri4 qi1] /date/",
        "棗 枣 [zao3] /dates/",
        "成功 成功 [cheng2 gong1] /successful/",
    ]
)


def test_a_word_relates_by_any_rendering_sharing_a_bigram_or_by_its_own_spelling():
    report = ReportMentions(REPORT)
    assert relates("province", DICTIONARY, report)  # 省, one character, is in the text
    assert relates("symposium", DICTIONARY, report)
    assert relates("NDRC", DICTIONARY, report)  # written as is
    assert not relates("router", DICTIONARY, report)
    assert not relates("recipe", DICTIONARY, report)


def test_british_spellings_hyphenated_words_and_base_forms_are_looked_up_too():
    report = ReportMentions(REPORT)
    assert relates("centres", DICTIONARY, report)  # CC-CEDICT glosses "center"
    assert relates("opening-up", DICTIONARY, report)  # "opening"
    assert relates("dates", DICTIONARY, report)  # itself a gloss (枣), but "date" is 日期
    assert relates("successfully", DICTIONARY, report)  # the adjective is glossed
    assert not relates("routers", DICTIONARY, report)


def test_words_about_the_text_counts_prepositions_and_light_verbs_are_not_its_topic():
    assert content_words("What centres are mentioned in the report?") == ["centres"]
    assert content_words("Which two rivers did the first treaty say lie between the provinces?") == [
        "rivers",
        "treaty",
        "lie",
        "provinces",
    ]


def test_a_question_is_unrelated_when_at_most_a_quarter_of_its_words_relate():
    report = ReportMentions(REPORT)
    # one of four content words ("province") relates: the question is about something else
    assert unrelated("Which province has the best router recipe?", DICTIONARY, report)
    # two of four do
    assert not unrelated("Which province has the best symposium recipe?", DICTIONARY, report)


def test_a_question_is_unrelated_when_none_of_its_words_relates():
    report = ReportMentions(REPORT)
    assert unrelated("How do I reset my router?", DICTIONARY, report)
    assert not unrelated("Which province will host the symposium?", DICTIONARY, report)
    assert not unrelated("Is there a recipe for the symposium?", DICTIONARY, report)
    # a pinyin name is resolved by retrieval; the rest of the question still has to relate
    assert content_words("What recipe did Liu Xiaotao cook?", ["Liu Xiaotao"]) == ["recipe", "cook"]
    assert content_words("Who wrote Hamlet's plays?") == ["wrote", "Hamlet", "plays"]
    assert not unrelated("Who is Liu Xiaotao?", DICTIONARY, report, ["Liu Xiaotao"])  # nothing left to judge
    assert not unrelated("Who?", DICTIONARY, report)


def test_a_sentence_shares_nothing_with_a_question_none_of_whose_words_it_renders():
    assert shares_nothing("Which province will host the symposium?", "会议日期另行通知。", DICTIONARY)
    assert not shares_nothing("Which province will host the symposium?", "座谈会在安徽省召开。", DICTIONARY)
    assert not shares_nothing("Which province?", "在 安徽 省召开。", DICTIONARY)  # spaces do not part words
    assert not shares_nothing("Who?", "会议日期另行通知。", DICTIONARY)  # no content word: nothing to judge


def test_an_off_topic_english_question_is_refused_and_a_related_one_answered(bundled_engine: Engine) -> None:
    for question in ("How do I reset my Wi-Fi router?", "Where is Polonia's home venue located?"):
        refused = bundled_engine.answer(question)  # the second: only "home" (家) relates
        assert not refused.found and not refused.citations, refused
    answered = bundled_engine.answer("Which province will host the 2027 symposium?")
    assert answered.found and answered.short_answer and "安徽" in answered.short_answer


def test_a_sentence_that_renders_none_of_an_english_question_is_not_its_answer(bundled_engine: Engine) -> None:
    # half their words relate to the report ("price", "index"; "team", "final"), so the questions
    # do, but the sentence nearest in meaning renders none, and is no closer than off-topic ones get
    for question in ("What does the consumer price index measure?", "Which team won the basketball final?"):
        refused = bundled_engine.answer(question)
        assert not refused.found, refused.answer
    # a name the sentence spells counts as shared: Liang Yanshun is 梁言顺
    answered = bundled_engine.answer("What position does Liang Yanshun hold?")
    assert answered.found and "安徽省委书记" in (answered.short_answer or ""), answered.answer


def test_warm_up_builds_what_an_english_question_reads(bundled_engine: Engine) -> None:
    """The first English question after start-up would otherwise build the glossary's English
    index (~0.4 s) while a user waits."""
    engine = Engine(bundled_engine.settings, index_dir=bundled_engine.index_dir, embedder=bundled_engine.embedder)
    assert "_index" not in vars(engine.glossary)
    engine.warm_up()
    assert "_index" in vars(engine.glossary) and "_english_of" in vars(engine.glossary)
