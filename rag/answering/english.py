"""English for English questions: quote the Chinese, then gloss what a dictionary or a reading gives.

No offline model translates Chinese usefully (see the README), so nothing is translated by
guesswork: the short answer gets an English rendering only when CC-CEDICT has the whole phrase
("安徽省 (Anhui Province)") or it is a person's name, read in pinyin with the readings names take
("信长星 (Xin Changxing)": 长 reads chang in a given name, where pypinyin's first guess is
zhang), and the cited sentence is quoted as the report says it.
"""

from __future__ import annotations

import re
from typing import Protocol

from ingest.text import CJK_CHAR
from rag.answering.slots import looks_like_person

# Surnames whose reading differs from the character's common one (曾 zeng, not ceng).
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha",
    "盖": "ge", "覃": "qin", "翟": "zhai", "乐": "yue", "尉": "yu", "缪": "miao", "召": "shao",
    "种": "chong", "秘": "bi", "员": "yun", "任": "ren", "华": "hua", "纪": "ji", "沈": "shen",
    "尹": "yin", "长": "chang", "重": "chong", "万": "wan", "祭": "zhai", "信": "xin", "令狐": "linghu",
}  # fmt: skip
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容", "皇甫", "令狐", "夏侯", "尉迟", "公孙", "长孙", "宇文", "司徒")
# Readings that given names take where the character has several (长星 chang, 乐天 le).
_GIVEN_NAME_READINGS = {"长": "chang", "乐": "le", "行": "xing", "朝": "chao", "传": "chuan", "和": "he", "少": "shao", "重": "chong"}  # fmt: skip
_ASCII_NUMBER = re.compile(r"^[\d.,%\s\-—–~]+$")


class Dictionary(Protocol):
    def english(self, chinese: str) -> str | None: ...


def _reading(char: str, table: dict[str, str]) -> str:
    if char in table:
        return table[char]
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(char, style=Style.NORMAL, v_to_u=True)).replace("ü", "u")


def name_in_pinyin(name: str) -> str:
    """A Chinese person's name in pinyin, surname first: 信长星 -> "Xin Changxing"."""
    surname = next((s for s in _COMPOUND_SURNAMES if name.startswith(s)), name[:1])
    given = name[len(surname) :]
    family = "".join(_reading(char, _SURNAME_READINGS) for char in surname)
    personal = "".join(_reading(char, _GIVEN_NAME_READINGS) for char in given)
    return " ".join(part.capitalize() for part in (family, personal) if part)


def gloss(chinese: str, dictionary: Dictionary | None) -> str | None:
    """The English rendering of a short answer, or None when no dictionary or reading gives one.

    A phrase that looks like a person's name (`looks_like_person`: 刘小涛, not 高水平 or 苏浙皖)
    is read in pinyin; anything else is glossed only when the dictionary has the whole phrase."""
    text = chinese.strip().strip("“”\"'《》")
    if not text or not CJK_CHAR.search(text):
        return None
    if _ASCII_NUMBER.match(text):
        return None
    if looks_like_person(text):
        return name_in_pinyin(text)
    if dictionary is None:
        return None
    return dictionary.english(text)


def with_gloss(chinese: str, dictionary: Dictionary | None) -> str:
    """ "安徽省 (Anhui Province)", or the Chinese alone when nothing glosses it."""
    english = gloss(chinese, dictionary)
    return f"{chinese} ({english})" if english else chinese


def quote(sentence: str) -> str:
    """The cited sentence framed for an English reader: quoted, never translated."""
    return f"The report says: “{sentence.strip()}”"
