"""rag.answering.evidence: character-bigram terms and IDF-weighted coverage, checked against values worked by hand."""

import math

import pytest

from rag.answering.evidence import (
    TermStatistics,
    coverage,
    coverages,
    question_terms,
    subject_terms,
    text_terms,
)

SENTENCES = ["会议在安徽召开", "会议在上海召开", "安徽省2027年"]


def test_text_terms_are_cjk_bigrams_single_characters_and_ascii_words() -> None:
    assert text_terms("长三角ABC ２０２７年") == {"长三", "三角", "年", "abc", "2027"}
    assert text_terms("安徽省2027年") == {"安徽", "徽省", "年", "2027"}
    assert text_terms("The G60 corridor") == {"the", "g60", "corridor"}
    assert text_terms("，。！") == set()


def test_chinese_question_terms_drop_question_words_and_particles() -> None:
    # 在, 哪里 and 会 are dropped: 座谈会 keeps only 座谈, and no bigram spans a dropped word.
    assert question_terms("2027年度座谈会在哪里召开？", "zh") == {"2027", "年度", "度座", "座谈", "召开"}
    assert question_terms("江苏省委书记是谁？", "zh") == {"江苏", "苏省", "省委", "委书", "书记"}


def test_subject_terms_leave_out_what_is_asked_around_the_question_word() -> None:
    # "在哪里举行" is what the answer sentence must say itself; "这次座谈会" what it may refer back to
    assert subject_terms("这次座谈会在哪里举行？") == {"这次", "次座", "座谈"}
    assert "举行" in question_terms("这次座谈会在哪里举行？", "zh")
    terms = subject_terms("拨给胡格诺派的土地位于哪个区域？")
    assert {"胡格", "格诺", "土地"} <= terms and not terms & {"位于", "区域"}


def test_english_question_terms_are_its_numbers_and_the_translated_terms() -> None:
    assert question_terms("which province hosts 2027?", "en", ["省", "主办"]) == {"2027", "省", "主办"}
    assert question_terms("Who is the governor?", "en") == set()


def test_idf_and_coverage_worked_by_hand() -> None:
    stats = TermStatistics.build(SENTENCES)
    assert stats.count == 3
    assert stats.frequencies["会议"] == 2 and stats.frequencies["2027"] == 1
    # idf = ln(1 + (N + 1) / (df + 0.5)) with N = 3
    idf_anhui = math.log(1 + 4 / 2.5)  # 安徽: in 2 sentences
    idf_shanghai = math.log(1 + 4 / 1.5)  # 上海: in 1
    idf_unseen = math.log(1 + 4 / 0.5)  # 杭州: in none, the highest weight
    assert stats.idf("安徽") == pytest.approx(idf_anhui)
    assert stats.idf("上海") == pytest.approx(idf_shanghai)
    assert stats.idf("杭州") == pytest.approx(idf_unseen)

    first = text_terms(SENTENCES[0])
    assert coverage({"安徽", "上海"}, first, stats) == pytest.approx(idf_anhui / (idf_anhui + idf_shanghai))
    assert coverage({"安徽", "杭州"}, first, stats) == pytest.approx(idf_anhui / (idf_anhui + idf_unseen))
    assert coverage({"安徽", "2027"}, text_terms(SENTENCES[2]), stats) == 1.0
    assert coverage({"杭州"}, first, stats) == 0.0
    assert coverage(set(), first, stats) == 0.0


def test_coverages_score_each_sentence() -> None:
    stats = TermStatistics.build(SENTENCES)
    idf_anhui, idf_shanghai = math.log(1 + 4 / 2.5), math.log(1 + 4 / 1.5)
    share = idf_anhui / (idf_anhui + idf_shanghai)
    assert coverages({"安徽", "上海"}, SENTENCES, stats) == pytest.approx([share, 1 - share, share])
