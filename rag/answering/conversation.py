"""Follow-up questions: rewrite the retrieval query from the conversation, without an LLM.

Two moves cover the common follow-ups:
- substitution: "那2028年呢？" after "2027年度座谈会在哪里召开？" swaps the year into the previous
  question -> "2028年度座谈会在哪里召开？";
- carry-over: a question that leans on the previous turn ("and who is its governor?", "他说了什么？",
  or anything very short) is searched together with the previous question and its answer phrase.
A question that stands on its own is searched as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str = ""  # what the assistant said; its first line is the answer phrase


_YEAR = re.compile(r"(?:19|20)\d{2}")
# Pronouns as words, not as parts of words: 其他 (other), 此次 (this time), 他们 (they, often the
# report's people) and 应该 stay standalone questions.
_ZH_FOLLOW_UP = re.compile(r"^(那么?|还有|而|另外)|呢[？?]?\s*$|它|她|^他(?!们)|他的|其(?:中|所)|^(?:这|那)个|^该")
_EN_FOLLOW_UP = re.compile(
    r"^(and|but|so|also|what about|how about)\b|\b(it|its|he|his|she|her|they|their|them|there|that one|this one)\b",
    re.IGNORECASE,
)
_ZH_PRONOUN = re.compile(r"它|她|^他(?!们)|他的|其(?:中|所)")
_EN_PRONOUN = re.compile(r"\b(it|its|he|his|she|her|they|their|them|there)\b", re.IGNORECASE)
_MARKER = re.compile(r"\[\d+\]")
SHORT_QUESTION_CHARS = {"zh": 6, "en": 14}


def is_follow_up(question: str, language: str) -> bool:
    stripped = question.strip()
    if len(stripped) <= SHORT_QUESTION_CHARS.get(language, 8):
        return True
    pattern = _ZH_FOLLOW_UP if language == "zh" else _EN_FOLLOW_UP
    return bool(pattern.search(stripped))


def answer_phrase(answer: str) -> str:
    """The answer phrase of an assistant turn: its first line, without citation markers."""
    first = answer.strip().splitlines()[0] if answer.strip() else ""
    return _MARKER.sub("", first).strip(" 。.")


@dataclass(frozen=True)
class RewrittenQuery:
    retrieval: str  # what to search with
    focus: str  # what to pick sentences and the answer phrase with


def rewrite_query(question: str, history: Sequence[Turn], language: str) -> RewrittenQuery:
    """The queries to use for `question`, given earlier turns (oldest first)."""
    if not history or not is_follow_up(question, language):
        return RewrittenQuery(question, question)
    previous = history[-1]
    years = _YEAR.findall(question)
    previous_years = _YEAR.findall(previous.question)
    if years and previous_years and years[0] != previous_years[0]:
        substituted = previous.question.replace(previous_years[0], years[0])
        return RewrittenQuery(substituted, substituted)
    phrase = answer_phrase(previous.answer)
    # A pronoun ("its governor", "他的") points at the previous answer, and the previous question
    # would pull retrieval back to the passage already answered; an ellipsis ("那省长呢？",
    # "what about Zhejiang?") keeps the previous question's subject and swaps what is asked.
    pronoun = _ZH_PRONOUN if language == "zh" else _EN_PRONOUN
    carried = phrase if phrase and pronoun.search(question) else previous.question
    focus = f"{carried} {question}".strip()
    return RewrittenQuery(focus, focus)
