"""The phrase that answers a Chinese what-question, when one stands out clearly enough to lead with.

`short_answer` extracts typed slots (a person, a place, a date, a number). A what-question
("会议要求以上海的什么建设作为牵引？") asks for no type: its answer is the stretch of the sentence
the question leaves out, standing where the question word stands. So the candidates are the runs
of jieba words, up to eight, that share nothing with the question and stay inside one clause; a
small linear model scores each (how much of the question's context around 什么 sits on either
side of it, how close the shared words are, its length, what kinds of words start and end it);
the best is offered only when the model puts nearly all the probability on it and the
candidates overlapping it, because a phrase that is merely the likeliest of many was right too
rarely to lead a reply with.

The weights, the feature scaling and the threshold live in `phrase_model.json`, fitted by
`python -m eval.fit_phrases` on the development halves of XQuAD and the report set.

English questions are not scored this way: without Chinese words around the slot to align
with, the best candidate matched the answer in only a fifth of the characters (XQuAD en,
development half). They get the name the sentence gives the asked kind of thing instead
(`short_answer.english_named_phrase`: "Which fund…" -> 长三角创业投资引导基金).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.answering.question_types import QuestionType
from rag.answering.short_answer import (
    PUNCT,
    ZH_ASKED,
    Anchor,
    Candidate,
    Token,
    aligned,
    aligned_sides,
    compact,
    in_question,
    longest_shared,
    pos_tags,
    proximity,
    wh_contexts,
    zh_anchors,
)

PHRASE_TYPES = frozenset({QuestionType.WHAT, QuestionType.OTHER})  # 什么, 如何 / 怎样
MODEL_FILE = Path(__file__).with_name("phrase_model.json")
MAX_WORDS = 8  # longer runs were the answer for under 2% of XQuAD's what-questions
_CLAUSE = set("，,。！!？?；;：:（）()")
_FUNCTION_TAGS = ("u", "p", "c", "d", "r", "y", "e", "o", "w", "x")
_CONTENT_END_TAGS = ("n", "vn", "eng", "nz", "m", "q")
_OPENING_QUOTES = "“\"《「"
FEATURES = (
    "alignment",  # characters of the question's context next to 什么 that sit next to the phrase
    "proximity",  # closeness to the words the question shares, decaying with distance
    "length",
    "length_over_4",
    "ends_in_content_word",
    "starts_with_function_word",
    "ends_with_function_word",
    "starts_with_verb",
    "ends_with_verb",
    "left_edge_at_boundary",  # a shared word or a clause break right before it
    "right_edge_at_boundary",
    "asked_noun_inside",  # "哪种体制" and "...体制"
    "after_opening_quote",
    "ends_with_asked_noun",  # "虹桥国际开放" + 枢纽 for "哪个枢纽"
    # The question's context on each side separately: "…的什么" is answered by a phrase right
    # after the shared words, "什么是…" by one right before them.
    "left_alignment",
    "right_alignment",
    "shared_word_just_before",  # a shared word ends at most one character before the phrase
    "shared_word_just_after",
    "clause_shared",  # how much of the question its clause shares (anchor weights)
    "whole_quoted",  # exactly the inside of “…” or 《…》
    "stops_inside_noun",  # the next word goes on with a noun (国家发展 | 改革委): a cut compound
)
# The noun the question word asks about: "哪个枢纽", "什么样的策源地", "哪类人才队伍".
_ASKED_NOUN = re.compile(r"(?:哪|什么|何)(?:样的|种|类|个|些|一|项|条|家|座|所|部)?([\u4e00-\u9fff]{1,6})")


@dataclass(frozen=True)
class PhraseModel:
    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float  # least probability that the answer lies at the best candidate (`choose`)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> PhraseModel:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on other features; refit with `python -m eval.fit_phrases`")
        return cls(tuple(raw["weights"]), tuple(raw["means"]), tuple(raw["scales"]), float(raw["threshold"]))

    def score(self, features: tuple[float, ...]) -> float:
        return sum(
            w * (f - m) / s for w, f, m, s in zip(self.weights, features, self.means, self.scales, strict=True)
        )


@dataclass(frozen=True)
class PhraseCandidate:
    start: int
    end: int
    features: tuple[float, ...]


@cache
def default_model() -> PhraseModel:
    return PhraseModel.load()


def phrase_candidates(question: str, sentence: str) -> list[PhraseCandidate]:
    """Runs of up to `MAX_WORDS` words of `sentence` that the question does not share, in one clause."""
    tokens = pos_tags(sentence)
    anchors = zh_anchors(question, sentence)
    blocked = _blocker(sentence, anchors)
    contexts = wh_contexts(question)
    # Each candidate's context on either side, compacted once per position, not per candidate.
    before = {token.start: compact(sentence[: token.start])[::-1] for token in tokens}
    after = {token.end: compact(sentence[token.end :]) for token in tokens}

    def alignment(start: int, end: int) -> tuple[float, float, float]:
        if end not in after:
            after[end] = compact(sentence[end:])
        return aligned_sides(before[start], after[end], contexts)

    clause_shared = _clause_weights(sentence, anchors)

    head_match = ZH_ASKED.search(question)
    head = head_match.group(1) if head_match else ""
    asked = _ASKED_NOUN.search(question)
    asked_noun = asked.group(1) if asked else ""
    found = []
    for i, first in enumerate(tokens):
        if blocked(first) or not first.word.strip() or first.word in PUNCT:
            continue
        for j in range(i, min(len(tokens), i + MAX_WORDS)):
            last = tokens[j]
            if blocked(last):
                break
            if not last.word.strip() or last.word in PUNCT or (j + 1 < len(tokens) and _bound(tokens[j + 1])):
                continue
            candidate = Candidate(first.start, last.end, 0.0)
            if not _balanced(sentence[first.start : last.end]) or in_question(question, sentence, candidate, anchors):
                continue
            left_edge = i == 0 or blocked(tokens[i - 1])
            right_edge = j == len(tokens) - 1 or blocked(tokens[j + 1])
            cut = j + 1 < len(tokens) and _noun_like(tokens[j + 1]) and _noun_like(last)
            found.append(
                PhraseCandidate(
                    first.start,
                    last.end,
                    _features(
                        sentence, candidate, anchors, first, last, alignment, head, left_edge, right_edge, False,
                        clause_shared, cut,
                    ),
                )
            )
            noun = _asked_noun_after(sentence, last.end, asked_noun)
            if noun:
                # The question's own noun closes the name it asks for ("虹桥国际开放枢纽").
                extended = Candidate(first.start, last.end + len(noun), 0.0)
                found.append(
                    PhraseCandidate(
                        extended.start,
                        extended.end,
                        _features(
                            sentence, extended, anchors, first, last, alignment, head, left_edge, True, True,
                            clause_shared, False,
                        ),
                    )
                )
    return found


def slot_alignment(question: str, sentence: str) -> float:
    """The most characters of the question's context around its question word that sit around
    some run of `sentence` the question does not share: how squarely the sentence holds the slot
    the question leaves open, whatever fills it. A cheap pass over the runs `phrase_candidates`
    scores, without their features."""
    contexts = wh_contexts(question)
    if not contexts:
        return 0.0
    tokens = pos_tags(sentence)
    blocked = _blocker(sentence, zh_anchors(question, sentence))
    rights = {token.end: compact(sentence[token.end :]) for token in tokens}
    best = 0.0
    for i, first in enumerate(tokens):
        if blocked(first) or not first.word.strip() or first.word in PUNCT:
            continue
        before = compact(sentence[: first.start])[::-1]
        for last in tokens[i : i + MAX_WORDS]:
            if blocked(last):
                break
            best = max(best, aligned(before, rights[last.end], contexts))
    return best


def _blocker(sentence: str, anchors: list[Anchor]) -> Callable[[Token], bool]:
    """Whether a word may not be part of a run: the question shares it, or it breaks the clause."""
    shared = [False] * len(sentence)
    for anchor in anchors:
        shared[anchor.start : anchor.end] = [True] * (anchor.end - anchor.start)

    def blocked(token: Token) -> bool:
        return any(shared[token.start : token.end]) or any(char in _CLAUSE for char in token.word)

    return blocked


_BOUND_TAGS = ("k", "zg", "ng", "vg", "ag")  # suffixes and morphemes jieba leaves on their own


def _bound(token: Token) -> bool:
    """One character that belongs to the word before it: 委 in 国家发展改革委."""
    return len(token.word) == 1 and token.tag in _BOUND_TAGS


def _asked_noun_after(sentence: str, position: int, asked_noun: str) -> str:
    """The longest end of the asked noun that follows `position` in `sentence`, or "".

    Only a noun closes a name: "要与什么深度融合" asks for what is merged, and 深度融合 stays out."""
    for start in range(len(asked_noun) - 1):
        tail = asked_noun[start:]
        if sentence.startswith(tail, position):
            words = pos_tags(tail)
            return tail if words and words[-1].tag.startswith("n") else ""
    return ""


_PAIRS = (("“", "”"), ("《", "》"), ("（", "）"), ("(", ")"), ("「", "」"), ("‘", "’"))


def _balanced(text: str) -> bool:
    """Whether every quote or bracket opened in `text` closes in it, and the reverse."""
    return all(text.count(opening) == text.count(closing) for opening, closing in _PAIRS)


def _features(
    sentence: str,
    candidate: Candidate,
    anchors: list[Anchor],
    first: Token,
    last: Token,
    alignment: Callable[[int, int], tuple[float, float, float]],
    asked_head: str,
    left_edge: bool,
    right_edge: bool,
    asked_noun_end: bool,
    clause_shared: Callable[[int], float],
    cut: bool,
) -> tuple[float, ...]:
    text = sentence[candidate.start : candidate.end]
    length = len(compact(text))
    total, left, right = alignment(candidate.start, candidate.end)
    return (
        total,
        proximity(sentence, candidate, anchors),
        float(length),
        float(max(0, length - 4)),
        float(last.tag.startswith(_CONTENT_END_TAGS)),
        float(first.tag.startswith(_FUNCTION_TAGS)),
        float(last.tag.startswith(_FUNCTION_TAGS)),
        float(first.tag.startswith("v") and not first.tag.startswith("vn")),
        float(last.tag.startswith("v") and not last.tag.startswith("vn")),
        float(left_edge),
        float(right_edge),
        float(longest_shared(asked_head, text)) if asked_head else 0.0,
        float(candidate.start > 0 and sentence[candidate.start - 1] in _OPENING_QUOTES),
        float(asked_noun_end),
        left,
        right,
        float(any(0 <= candidate.start - a.end <= 1 for a in anchors)),
        float(any(0 <= a.start - candidate.end <= 1 for a in anchors)),
        clause_shared(candidate.start),
        float(
            candidate.start > 0
            and candidate.end < len(sentence)
            and (sentence[candidate.start - 1], sentence[candidate.end]) in _PAIRS
        ),
        float(cut),
    )


def _noun_like(token: Token) -> bool:
    return token.tag.startswith(("n", "vn", "j")) and not token.tag.startswith("nr") and bool(token.word.strip())


def _clause_weights(sentence: str, anchors: list[Anchor]) -> Callable[[int], float]:
    """Position -> the summed weight of the shared words in the clause around it."""
    breaks = [i for i, char in enumerate(sentence) if char in _CLAUSE]
    bounds = list(zip([-1, *breaks], [*breaks, len(sentence)], strict=True))
    weights = [sum(a.weight for a in anchors if lo < a.start < hi) for lo, hi in bounds]

    def at(position: int) -> float:
        for (lo, hi), weight in zip(bounds, weights, strict=True):
            if lo < position < hi:
                return weight
        return 0.0

    return at


def choose(candidates: list[PhraseCandidate], model: PhraseModel) -> tuple[int, float]:
    """The index of the likeliest candidate, and the probability that the answer lies there: the
    softmax mass of every candidate overlapping it. The runs overlap ("虹桥国际开放",
    "国际开放枢纽"), so the best one's own share says little about where the answer is."""
    scores = [model.score(candidate.features) for candidate in candidates]
    top = max(scores)
    weights = [math.exp(score - top) for score in scores]
    best = scores.index(top)
    chosen = candidates[best]
    near = sum(
        weight
        for weight, other in zip(weights, candidates, strict=True)
        if other.start < chosen.end and chosen.start < other.end
    )
    return best, near / sum(weights)


def best_phrase(question: str, sentence: str, model: PhraseModel | None = None) -> tuple[str, float] | None:
    """The likeliest answer phrase of `sentence`, and the probability that the answer lies there."""
    candidates = phrase_candidates(question, sentence)
    if not candidates:
        return None
    best, confidence = choose(candidates, model or default_model())
    return sentence[candidates[best].start : candidates[best].end], confidence


def what_phrase(question: str, sentence: str, model: PhraseModel | None = None) -> str | None:
    """The phrase of `sentence` that answers the what-question, or None when none stands out."""
    model = model or default_model()
    found = best_phrase(question, sentence, model)
    if found is None or found[1] < model.threshold:
        return None
    return found[0]
