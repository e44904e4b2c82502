"""Whether a phrase is the kind of thing a question asks for: a person for who, a number for how
many. The short-answer extractor offers its best candidate even when none is of the asked kind;
these checks decide whether it may fill the slot, and which candidate sentences hold a person.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from ingest.text import CJK_CHAR, jieba, jieba_posseg
from rag.answering.provinces import PROVINCE_ABBREVIATION_CHARS
from rag.answering.question_types import QuestionType
from rag.answering.short_answer import (
    LATIN,
    LOCATIVES,
    NAME_DOT,
    PLACE_SUFFIX,
    PUNCT,
    SURNAMES,
    ZH_NUM,
    known_word,
    pos_tags,
)

_PERSON_TAGS = frozenset({"nr", "nrfg", "nrt"})
_COMMON_WORD_FREQ = 5000  # jieba counts: 水平 13,880 is a word; 建国 3,083 is also a given name
# A run of province abbreviations (苏浙皖) reads like a surname and a given name, but is places.
_ABBREVIATIONS = re.compile(f"[{PROVINCE_ABBREVIATION_CHARS}]+")
_NAME_LIST = re.compile(r"[、，,和及与/\s]+")
_NUMERAL = re.compile(rf"[0-9{ZH_NUM}]")


def looks_like_person(phrase: str) -> bool:
    """A person's name, or a list of them ("龚正、刘小涛"): what a who-question's answer is.

    jieba's name tags, or 2-3 characters starting with a common surname that jieba does not
    know as an ordinary word; "座谈会", "应邀出席" and "安徽省委" are not people."""
    names = [name for name in _NAME_LIST.split(phrase.strip("“”\"'")) if name]
    if not names:
        return False
    for name in names:
        if LATIN.fullmatch(name):
            continue  # a Latin-script name (XQuAD's "Tesla") is taken as written
        tokens = pos_tags(name)
        if any(dot in name for dot in NAME_DOT):
            continue  # a transliterated foreign name (约翰·史密斯)
        # Chinese names are two or three characters; jieba tags unknown runs like 应邀出席 nr too,
        # and a common word after a surname character (高水平: 高 + 水平) is not a given name.
        if not 2 <= len(name) <= 3 or _ABBREVIATIONS.fullmatch(name):
            return False
        tagged = len(tokens) == 1 and tokens[0].tag in _PERSON_TAGS
        # Two characters after a surname character are too often a word (边会, 高速) to count
        # without jieba's name tag; three (刘小涛, 信长星) are read as a name.
        surname = len(name) == 3 and name[0] in SURNAMES and not known_word(name)
        common_word_after = len(name) == 3 and (jieba().dt.FREQ.get(name[1:]) or 0) >= _COMMON_WORD_FREQ
        if not (tagged or surname) or common_word_after:
            return False
    return True


_COMMON_TAGS = ("n", "v", "vn", "a", "ad", "an", "d", "m", "q", "p", "c", "u", "f", "t", "l", "i", "r")
_NAME_LIKE_TAGS = ("nr", "ns", "nt", "nz", "eng")


def clearly_not_a_person(phrase: str) -> bool:
    """Ordinary words only (领导座谈会: 领导 + 座谈会; 成果发布会): no name, no organization, no
    unknown word that could be a transliterated name (凯瑟琳温克沃斯) or a team."""
    tokens = pos_tags(phrase)
    if not tokens or any(dot in phrase for dot in NAME_DOT) or LATIN.search(phrase):
        return False
    return all(
        known_word(token.word)
        and (
            (token.tag.startswith(_COMMON_TAGS) and not token.tag.startswith(_NAME_LIKE_TAGS))
            or _verbs_only(token.word)
        )
        for token in tokens
        if token.word.strip() and token.word not in PUNCT
    )


def _verbs_only(word: str) -> bool:
    """A word jieba's dictionary tags as a name but that is made of verbs: 应邀出席 ("attend on
    invitation") is listed as nr, yet reads 应邀 + 出席. Names are not made of verbs."""
    tags = jieba_posseg().dt.word_tag_tab
    parts = [part for part in jieba().cut_for_search(word) if part != word]
    covered = sum(map(len, parts)) >= len(word)
    return bool(parts) and covered and all(str(tags.get(part, "")).startswith("v") for part in parts)


def fills_slot(phrase: str, sentence: str, qtype: QuestionType, asked: Collection[str] | None = None) -> bool:
    """Whether `phrase` (found in `sentence`) is the kind of thing `qtype` asks for.

    The extractor offers its best candidate even when none is of the asked kind; a short answer
    fills the slot only when it is: a person for who, a number for how many (not the 60 of
    "G60", not the day "21日")."""
    if qtype is QuestionType.WHO:
        return not clearly_not_a_person(phrase)
    if qtype is QuestionType.HOW_MANY:
        at = sentence.find(phrase)
        inside_name = at > 0 and sentence[at - 1].isascii() and sentence[at - 1].isalpha()
        a_day = phrase.rstrip().endswith(("日", "号", "月"))  # "21日" dates, it does not count
        return bool(_NUMERAL.search(phrase)) and not inside_name and not a_day and not _quoted(phrase, sentence)
    if qtype in (QuestionType.WHERE, QuestionType.WHICH_PLACE) and _COUNTED_PLACES.match(phrase):
        return False  # "三省一市" counts places, it names none
    if qtype is QuestionType.WHERE:
        return names_a_place(phrase) or _after_locative(phrase, sentence)
    if qtype is QuestionType.WHEN and asked is not None:
        return not _in_unasked_title(phrase, sentence, asked)
    return True


def _in_unasked_title(phrase: str, sentence: str, asked: Collection[str]) -> bool:
    """A date inside a title the question does not name: "《…三年行动计划(2026—2028年)》" gives
    the plan's years, which answer "what years does the plan cover" and not "when was the
    symposium held". `asked`: the question's terms (Chinese character bigrams)."""
    at = sentence.find(phrase)
    opened = sentence.rfind("《", 0, at)
    if at < 0 or opened < 0 or sentence.rfind("》", 0, at) > opened:
        return False
    closed = sentence.find("》", at)
    title = sentence[opened : closed if closed >= 0 else len(sentence)]
    return not any(len(term) >= 2 and CJK_CHAR.match(term) and term in title for term in asked)


# A count of places: 三省, 两市, 三省一市, 3个城市.
_COUNTED_PLACES = re.compile(rf"[0-9{ZH_NUM}]+个?(?:省|市|县|区|国|州|地)")


def _quoted(phrase: str, sentence: str) -> bool:
    """A phrase that is a quoted name ("十五五" in “十五五”规划): a plan, not a count."""
    at = sentence.find(phrase)
    end = at + len(phrase)
    return at > 0 and sentence[at - 1] in "“‘\"「《" and end < len(sentence) and sentence[end] in "”’\"」》"


# Buildings and grounds are where things happen too (哈佛大学, 人民大会堂, 体育场).
_VENUE_SUFFIX = ("大学", "学院", "中心", "馆", "场", "院", "宫", "堂", "园", "厅", "站", "港", "寺", "楼", "塔", "桥", "大厦", "广场")


def names_a_place(phrase: str) -> bool:
    """A place or venue name by jieba's tag or its ending (上海, 安徽省, 维斯瓦河, 人民大会堂), or
    a Latin one; not an organization that only names who met ("党委政府秘书长座谈会")."""
    if LATIN.search(phrase):
        return True
    ending = phrase.rstrip().endswith((*PLACE_SUFFIX, *_VENUE_SUFFIX))
    return ending or any(token.tag.startswith("ns") for token in pos_tags(phrase))


def _after_locative(phrase: str, sentence: str) -> bool:
    """An organization or a building is where something happens when the sentence puts it after
    在/于 ("在人民大会堂举行"); "党委政府秘书长座谈会" only names who met."""
    at = sentence.find(phrase)
    return at > 0 and sentence[:at].rstrip().endswith(tuple(LOCATIVES))
