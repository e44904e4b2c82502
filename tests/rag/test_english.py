"""English renderings: dictionary glosses and pinyin names, never guessed translations."""

from __future__ import annotations

from rag.answering.english import gloss, name_in_pinyin, quote, with_gloss
from rag.retrieval.glossary import Glossary

DICTIONARY = Glossary.from_lines(
    [
        "安徽省 安徽省 [An1 hui1 Sheng3] /Anhui Province (Anhwei) in south central China, capital Hefei 合肥[He2 fei2]/",
        "邊會 边会 [bian1 hui4] /side event/",
    ]
)


def test_names_take_surname_and_given_name_readings():
    assert name_in_pinyin("信长星") == "Xin Changxing"  # 长 reads chang in a name, not zhang
    assert name_in_pinyin("王清宪") == "Wang Qingxian"
    assert name_in_pinyin("曾国藩") == "Zeng Guofan"  # the surname reading, not ceng
    assert name_in_pinyin("欧阳修") == "Ouyang Xiu"


def test_places_take_the_dictionary_name_only():
    assert DICTIONARY.english("安徽省") == "Anhui Province"
    assert with_gloss("安徽省", DICTIONARY) == "安徽省 (Anhui Province)"
    assert gloss("边会", DICTIONARY) == "side event"


def test_nothing_is_guessed():
    assert gloss("共建长江口产业创新绿色发展协同区", DICTIONARY) is None
    assert with_gloss("2027", DICTIONARY) == "2027"
    assert gloss("Anhui", DICTIONARY) is None


def test_names_are_read_in_pinyin_and_words_that_look_like_names_are_not():
    assert with_gloss("刘小涛", None) == "刘小涛 (Liu Xiaotao)"
    assert with_gloss("高水平", None) == "高水平"  # 高 is a surname, 水平 a common word
    assert with_gloss("苏浙皖", None) == "苏浙皖"  # province abbreviations
    assert with_gloss("应邀出席", None) == "应邀出席"


def test_quote_frames_the_sentence():
    assert quote(" 会议确定,2027年度座谈会在安徽省召开。") == "The report says: “会议确定,2027年度座谈会在安徽省召开。”"
