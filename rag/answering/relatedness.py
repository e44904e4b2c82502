"""Whether an English question relates to anything the report says at all.

An English question over Chinese text is matched by meaning, and a cross-lingual embedding
always finds some nearest sentence: "How do I reset my Wi-Fi router?" got a sentence about
waterways. What such questions have in common is that none of their content words has a
dictionary rendering that occurs in the report. A word relates when one of its CC-CEDICT
renderings shares a character bigram with the report's text (one-character renderings: the
character itself), when it occurs in the text as written (NDRC, DECnet), or when it spells a
Chinese name in pinyin (retrieval resolves those; the check does not repeat that scan).

Measured on the English questions of the labelled set (`rag eval`): no answerable question is
refused by it; two off-topic questions that were answered before now are (the others it flags
were refused already). On XQuAD's 1,190 English questions it refuses 5: four had been answered
wrongly, one rightly ("How many Grammys has Lady Gaga won?": its paragraph writes 女神卡卡).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from ingest.text import ENGLISH_STOPWORDS

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
MIN_WORD_LETTERS = 3  # shorter words are function words or acronyms too short to tell


class Dictionary(Protocol):
    def lookup(self, phrase: str, limit: int = ...) -> list[str]: ...


class Mentions(Protocol):
    """What the report's text holds (rag.answering.report_mentions.ReportMentions)."""

    def contains(self, form: str) -> bool: ...

    def shares_bigram(self, form: str) -> bool: ...


def content_words(question: str, names: Iterable[str] = ()) -> list[str]:
    """The question's words that carry its topic, as written: not stopwords, not short, not the
    words of its pinyin names (`names`), which retrieval resolves and which count as related."""
    skipped = {word.lower() for name in names for word in name.split()}
    words = [word.removesuffix("'s") for word in _WORD.findall(question)]
    return [
        w
        for w in words
        if w.lower() not in ENGLISH_STOPWORDS and len(w) >= MIN_WORD_LETTERS and w.lower() not in skipped
    ]


def relates(word: str, dictionary: Dictionary, report: Mentions) -> bool:
    if any(report.contains(form) for form in dict.fromkeys((word, word.upper(), word.capitalize()))):
        return True  # written as is: NDRC, DECnet
    return any(
        report.contains(rendering) if len(rendering) == 1 else report.shares_bigram(rendering)
        for rendering in dictionary.lookup(word.lower(), 6)
    )


def unrelated(question: str, dictionary: Dictionary, report: Mentions, names: Iterable[str] = ()) -> bool:
    """True when the question has content words and none of them relates to the report."""
    words = content_words(question, names)
    return bool(words) and not any(relates(word, dictionary, report) for word in words)
