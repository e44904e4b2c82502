"""Scoring candidate sentences against a question: character-bigram overlap weighted by IDF.

Character bigrams need no segmenter and match Chinese paraphrases that share words but not word
boundaries; weighting by inverse document frequency over the index's sentences keeps "长三角"
(everywhere in this report) from outweighing "安徽" or "2027". The same coverage number is one
of the refusal features: a question whose rare terms appear nowhere is likely not answered.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.text import CJK_RUN

_ASCII_WORD = re.compile(r"[a-z0-9]+")

# Question words and particles: they say what is asked, not what to look for.
_ASKING_WORDS = r"什么时候|什么|哪里|哪儿|哪个|哪些|哪位|哪一|哪|谁|几|多少|是否|怎么|怎样|如何|为什么|为何|何时"
_ASKING = re.compile(_ASKING_WORDS)
_ZH_QUESTION_WORDS = re.compile(_ASKING_WORDS + r"|请问|吗|呢|吧|是|的|了|在|有|和|与|及|中|都|会|被|对|把|叫")
_EN_STOP = frozenset(
    "the a an of to in on at for by with from and or is are was were be been being do does did what which who "
    "whom whose where when why how that this these those it its as into about report say said".split()
)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


# A counted quantity is written either way ("九场比赛" / "9 场首发", "第五届" / "第5届"); both
# sides are read in digits so that the count itself matches. Only before a classifier or unit,
# so words that merely contain a numeral (一体化, 统一, 十五五) keep their characters.
_COUNTED = re.compile(
    r"(?<![零一二两三四五六七八九十百千])([零一二两三四五六七八九十百千]+)"
    r"(?=[个场次年月日号名位种项座家人岁倍届条部件支只天周期季轮篇章节段层所辆艘架枚股份批])"
)
_DIGIT = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}


def numeral_value(numeral: str) -> int | None:
    """The value of a Chinese numeral below 10,000 ("九" 9, "十五" 15, "两千零五" 2005,
    "一九八五" 1985), or None when it is not one (the reverse of `glossary.chinese_number`)."""
    if all(c in _DIGIT for c in numeral):
        if len(numeral) > 1 and "两" in numeral:
            return None
        return int("".join(str(_DIGIT[c]) for c in numeral))
    total, digit = 0, None
    for char in numeral:
        if char in _DIGIT:
            if digit is not None and _DIGIT[char] != 0:
                return None
            digit = _DIGIT[char] or None
        elif char in _UNIT:
            total += (digit if digit is not None else 1) * _UNIT[char]
            digit = None
        else:
            return None
    return total + (digit or 0)


def _in_digits(match: re.Match[str]) -> str:
    value = numeral_value(match.group(1))
    return match.group(1) if value is None else f" {value} "


def text_terms(text: str) -> set[str]:
    """Bigrams (and single characters of one-character runs) of CJK text, plus ASCII words;
    counts are read in digits."""
    text = _COUNTED.sub(_in_digits, normalize(text))
    terms: set[str] = set()
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            terms.add(run)
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    terms.update(_ASCII_WORD.findall(text))
    return terms


def question_terms(question: str, language: str, translations: Iterable[str] = ()) -> set[str]:
    """What to look for: the question's content bigrams (zh) or its translated terms (en)."""
    if language == "zh":
        return text_terms(_ZH_QUESTION_WORDS.sub(" ", normalize(question)))
    terms = {word for word in _ASCII_WORD.findall(normalize(question)) if word not in _EN_STOP and word.isdigit()}
    for translation in translations:
        terms |= text_terms(translation)
    return terms


def subject_terms(question: str, reach: int = 2) -> set[str]:
    """The terms of a Chinese question outside its question word's immediate surroundings:
    what it asks about ("这次座谈会"), not what it asks ("在哪里举行"), which the answer
    sentence itself must say."""
    text = normalize(question)
    kept = list(text)
    for match in _ASKING.finditer(text):
        for i in range(max(0, match.start() - reach), min(len(text), match.end() + reach)):
            kept[i] = " "
    return text_terms(_ZH_QUESTION_WORDS.sub(" ", "".join(kept)))


@dataclass(frozen=True)
class TermStatistics:
    """Document frequencies of terms over a set of sentences."""

    frequencies: Counter[str]
    count: int

    @classmethod
    def build(cls, sentences: Iterable[str]) -> TermStatistics:
        frequencies: Counter[str] = Counter()
        count = 0
        for sentence in sentences:
            frequencies.update(text_terms(sentence))
            count += 1
        return cls(frequencies, count)

    def idf(self, term: str) -> float:
        # Unseen terms get the highest weight: a rare question term that the report lacks
        # should lower coverage the most.
        return math.log(1.0 + (self.count + 1) / (self.frequencies.get(term, 0) + 0.5))


def coverage(terms: set[str], sentence_terms: set[str], stats: TermStatistics) -> float:
    """IDF-weighted share of `terms` found in `sentence_terms` (0..1)."""
    if not terms:
        return 0.0
    total = sum(stats.idf(term) for term in terms)
    found = sum(stats.idf(term) for term in terms if term in sentence_terms)
    return found / total if total else 0.0


def coverages(terms: set[str], sentences: Sequence[str], stats: TermStatistics) -> list[float]:
    return [coverage(terms, text_terms(sentence), stats) for sentence in sentences]
