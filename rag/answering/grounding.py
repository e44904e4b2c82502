"""Whether an LLM's answer says only what the passages it cites say, sentence by sentence.

A small model writes fluent sentences with valid [n] markers and invented facts: another year,
another province, another person in the role, a number the passage does not hold. Each sentence
of the answer is checked against the passages it cites:

- the facts it states must be in the cited text: its entities, roles, years, ordinals and asked
  attributes (parsed and met as the extractive answerer checks a question, `constraints`), every
  number in it, and a person's title must stand with that person's name (in the same clause:
  "上海市委副书记、市长龚正" makes 龚正 mayor, not 江苏省委书记, though the passage names both);
- it must say something close to a sentence of the cited passage: e5 cosine over a floor.

A sentence its citations do not support is re-cited to a retrieved passage that does, or dropped.
`check` is pure over the texts and vectors it is given; the answerer supplies them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

import numpy as np

from ingest.text import CJK, CJK_RUN, jieba_posseg
from rag.answering.constraints import ASKED_KINDS, Constraint, Kind, Translator, checkable, met, parse
from rag.language import detect_language
from rag.retrieval.glossary import names_in_text

# e5 cosine between a generated sentence (embedded as a query) and the best sentence of the
# passage it cites. Measured on the report: faithful restatements 0.94-0.97 in Chinese, 0.84-0.88
# in English; e5 is not very selective here (an invented "会议共有8个展厅" scores 0.88 against the
# meeting's passages), so the floor only stops sentences about something else, and the facts and
# the word coverage below do the rest.
SIMILARITY_FLOOR = {"zh": 0.88, "en": 0.82}
# A Chinese sentence must reuse most of its cited text's character bigrams: "上海发展很好" shares
# 2 of 5 with the report's sentences about Shanghai, a restatement 0.8-1.0.
COVERAGE_FLOOR = 0.6
# A sentence whose facts a passage holds and that reuses nearly all of its words (at least 6
# distinct bigrams, 90% of them, within two adjacent sentences) says what the passage says: e5 is
# not asked, its encode being most of the check's time. Measured on 300 such sentences made from
# the report's own (whole sentences, their first or last clause, all but the last): e5 put every
# one over the floor (lowest 0.881), so the verdicts are the same.
QUOTED_BIGRAMS = 6
QUOTED_COVERAGE = 0.9

_MARKER = re.compile(r"\[(\d+)\]")
_LEADING_MARKERS = re.compile(r"\s*((?:\[\d+\]\s*)+)")
# A sentence ends at CJK or Western end punctuation (a "." only before a space, a marker or the
# end, so "5.2%" stays whole) or a line break.
_END = re.compile(r"[。！？!?；;]+|\.(?=\s|\[|$)|\n+")
_WORD = re.compile(rf"[\w{CJK}]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_PASSAGE_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*")
_QUESTION = re.compile(r"[?？]\s*$")
_TITLED_NAME = re.compile(
    r"(?:书记|省长|市长|县长|区长|主席|主任|部长|总理|秘书长)([\u4e00-\u9fff]{2,3})(?=[,，、;；。\s])"
)
_CLAUSE = re.compile(r"[，,；;。！？!?\n]")
_MONTHS = {
    m: n
    for n, m in enumerate(
        "january february march april may june july august september october november december".split(), 1
    )
}
_EN_DATE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.IGNORECASE)
# Words that turn a pinyin place into a phrase the constraint parser no longer reads as a name
# ("Anhui Province"): dropped before parsing an English sentence, so "Anhui" is checked.
_EN_PLACE_WORDS = re.compile(
    r"\b(?:Province|Provincial|City|Municipality|Municipal|Region|District|County)\b"
)


class Status(Enum):
    SUPPORTED = "supported"
    RECITED = "recited"  # its own citations do not support it, another retrieved passage does
    DROPPED = "dropped"


@dataclass(frozen=True)
class Claim:
    """One sentence of a generated answer."""

    text: str  # without its markers
    cited: tuple[int, ...]  # 1-based passage numbers, as the model wrote them
    paragraph_end: bool = False  # a line break followed it


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    status: Status
    cited: tuple[int, ...]  # the passages it cites after the check (empty when dropped)
    why: str = ""  # what the cited text lacks, for a re-cited or dropped sentence


@dataclass(frozen=True)
class Grounding:
    verdicts: tuple[Verdict, ...]
    language: str
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = {status.value: 0 for status in Status}
        for verdict in self.verdicts:
            counts[verdict.status.value] += 1
        object.__setattr__(self, "counts", counts)

    @property
    def kept(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status is not Status.DROPPED]

    @property
    def changed(self) -> bool:
        return any(v.status is not Status.SUPPORTED for v in self.verdicts)

    def text(self) -> str:
        """The answer rebuilt from the kept sentences, each with its (new) markers."""
        parts: list[str] = []
        for verdict in self.kept:
            parts.append(_with_markers(verdict.claim.text, verdict.cited, self.language))
            parts.append("\n\n" if verdict.claim.paragraph_end else ("" if self.language == "zh" else " "))
        return "".join(parts).strip()


# --- sentences ----------------------------------------------------------------------------------


def split_claims(answer: str) -> list[Claim]:
    """The sentences of `answer` with the markers each carries.

    Markers right after a sentence's end punctuation belong to it ("…召开。[1]"); a sentence of
    markers alone is folded into the one before.
    """
    pieces: list[tuple[str, bool]] = []
    start = 0
    for match in _END.finditer(answer):
        pieces.append((answer[start : match.end()], "\n" in match.group()))
        start = match.end()
    pieces.append((answer[start:], True))
    claims: list[Claim] = []
    follows = False  # the previous piece ended with punctuation, not a line break
    for piece, line_break in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and claims and follows:
            previous = claims[-1]
            claims[-1] = Claim(
                previous.text, _merge(previous.cited, _numbers(lead.group(1))), previous.paragraph_end
            )
            piece = piece[lead.end() :]
        text = re.sub(r"[ \t\u3000]*\[\d+\]", "", piece).strip()
        numbers = _numbers(piece)
        if _WORD.search(text):
            claims.append(Claim(text, numbers, line_break))
            follows = not line_break
        elif claims:
            previous = claims[-1]
            claims[-1] = Claim(
                previous.text, _merge(previous.cited, numbers), previous.paragraph_end or line_break
            )
    return claims


# A marker still being written at the end of a streamed reply ("…召开。[1"): not yet text.
_OPEN_MARKER = re.compile(r"[\[【［][0-9０-９\s,，、;；\-–~～]*$")


def first_claim(partial: str) -> Claim | None:
    """The first sentence of a reply still being written, once it is complete: a second sentence
    has begun, so its end punctuation and the markers after it are all there. None before that.
    It is the claim `split_claims` makes of the whole reply, whatever follows."""
    claims = split_claims(_OPEN_MARKER.sub("", partial))
    return claims[0] if len(claims) > 1 else None


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(n) for n in _MARKER.findall(text)))


def _merge(first: tuple[int, ...], second: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(dict.fromkeys((*first, *second)))


def _with_markers(text: str, cited: Sequence[int], language: str) -> str:
    markers = "".join(f"[{n}]" for n in cited)
    if not markers:
        return text
    body = text.rstrip("。！？!?；;.")
    end = text[len(body) :]
    space = "" if language == "zh" or body.endswith(("\u3000",)) else " "
    return f"{body}{space}{markers}{end}"


# --- facts --------------------------------------------------------------------------------------


@lru_cache(maxsize=2048)
def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d),(?=\d{3})", "", text)


def claim_constraints(text: str, translator: Translator | None = None) -> tuple[Constraint, ...]:
    """The checkable facts a generated sentence states (as `constraints.parse` reads a question)."""
    language = detect_language(text)
    if language == "en":
        text = _EN_PLACE_WORDS.sub("", text)
    # What a question asks for is not a fact a sentence states: a sentence is checked by its names,
    # numbers and titles.
    return tuple(c for c in parse(text, language, translator) if c.strict and checkable(c) and c.kind not in ASKED_KINDS)


def missing_facts(claim: str, constraints: Sequence[Constraint], passage: str) -> list[str]:
    """What `claim` states that `passage` does not: constraints not met, numbers not in it, a
    title given to a person the passage does not give it to. Empty when every fact is there."""
    plain = _plain(passage)
    missing = [c.surface for c in constraints if not met(c, plain)]
    numbers = set(_NUMBER.findall(_plain(claim)))
    for month, day in _EN_DATE.findall(claim):
        numbers.discard(day)
        if not re.search(rf"(?<!\d){_MONTHS[month.lower()]}月{int(day)}日", plain):
            missing.append(f"{month} {day}")
    for number in sorted(numbers):
        if not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d]|\.\d)", plain):
            missing.append(number)
    missing.extend(_titles_misplaced(claim, constraints, plain))
    return list(dict.fromkeys(missing))


def _titles_misplaced(claim: str, constraints: Sequence[Constraint], passage: str) -> list[str]:
    """A role (with the place before it, "江苏省委书记") the claim gives a person must stand in
    the passage's clause that names the person, before the name: lists of officials put each
    title right before its holder."""
    roles = [c for c in constraints if c.kind is Kind.ROLE]
    if not roles:
        return []
    people = [c for c in constraints if c.kind is Kind.ENTITY and _is_person(c, passage)]
    # jieba does not know every name (龚正); a name the passage lists after a title is one.
    people += [
        Constraint(Kind.ENTITY, name, (name,))
        for name in dict.fromkeys(_TITLED_NAME.findall(passage))
        if name in claim and not any(name in c.surface or c.surface in name for c in people)
    ]
    if not people:
        return []
    qualifiers = [
        c
        for c in constraints
        if c.kind is Kind.ENTITY
        and c not in people
        and any(_right_before(claim, c.surface, r.surface) for r in roles)
    ]
    wrong = []
    for person in people:
        titles = _title_spans(person, passage)
        if not titles:
            continue  # the name is missing altogether: reported as a missing entity
        for needed in (*roles, *qualifiers):
            if not any(met(needed, title) for title in titles):
                wrong.append(f"{person.surface}: {needed.surface}")
    return wrong


def _names(person: Constraint, passage: str) -> list[str]:
    found = [form for form in person.forms if form and form in passage]
    if person.pinyin_name:
        found += names_in_text(person.surface, passage)
    return found


def _is_person(constraint: Constraint, passage: str) -> bool:
    return any(_tagged_person(name) for name in _names(constraint, passage) or list(constraint.forms[:1]))


@lru_cache(maxsize=4096)
def _tagged_person(name: str) -> bool:
    """jieba tags (part of) `name` as a person; cached: its HMM cut was most of the check's time."""
    return any(pair.flag.startswith("nr") for pair in jieba_posseg().cut(name))


def _title_spans(person: Constraint, passage: str) -> list[str]:
    """For each place the passage names the person: the clause up to the name's end."""
    spans = []
    for name in _names(person, passage):
        for match in re.finditer(re.escape(name), passage):
            clause_start = max((m.end() for m in _CLAUSE.finditer(passage, 0, match.start())), default=0)
            spans.append(passage[clause_start : match.end()])
    return spans


def _right_before(text: str, first: str, second: str) -> bool:
    """`first` directly before `second` in `text`, give or take a 省/市 and a few letters."""
    for match in re.finditer(re.escape(second), text):
        if first in text[max(0, match.start() - len(first) - 4) : match.start()]:
            return True
    return False


# --- the check ---------------------------------------------------------------------------------


def check(
    claims: Sequence[Claim],
    passages: Sequence[str],
    sentence_vectors: Sequence[np.ndarray],
    embed: Callable[[list[str]], np.ndarray],
    language: str,
    translator: Translator | None = None,
    floor: dict[str, float] | None = None,
    known: Sequence[Verdict] = (),
) -> Grounding:
    """Each claim against the passages it cites (`passages` numbered 1..).

    sentence_vectors[p]: unit e5 vectors of passage p+1's sentences, one row each.
    embed(texts): unit e5 query vectors of claim texts; called at most once, and only for the
    claims whose facts some passage holds without quoting them (the facts are checked first:
    most unsupported sentences fail there, and the e5 encode is the check's largest cost).
    A claim whose citations all fail is re-cited to the first other passage that supports it, or
    dropped; a claim citing nothing valid is tried against every passage.
    known: verdicts already reached on these passages (a streamed answer's first sentence, checked
    as it completed); a claim among them is not checked again.
    """
    floors = floor or SIMILARITY_FLOOR
    reached = {verdict.claim: verdict for verdict in known}
    facts = [_FactCheck(claim, passages, translator) for claim in claims if claim not in reached]
    need = [i for i, fact in enumerate(facts) if fact.needs_similarity()]
    scores = np.zeros((len(facts), len(passages)), dtype=np.float32)
    if need:
        scores[need] = best_similarities(embed([facts[i].claim.text for i in need]), sentence_vectors)
    for index, fact in enumerate(facts):
        minimum = floors.get(detect_language(fact.claim.text), floors.get(language, 0.0))
        reached[fact.claim] = fact.verdict(scores[index], minimum)
    return Grounding(tuple(reached[claim] for claim in claims), language)


class _FactCheck:
    """One claim's facts against the passages, each passage checked once, when first asked."""

    def __init__(self, claim: Claim, passages: Sequence[str], translator: Translator | None) -> None:
        self.claim = claim
        self.passages = passages
        self.question = bool(_QUESTION.search(claim.text))
        # A small model often restates the question: it claims nothing, and answers nothing.
        self.constraints = () if self.question else claim_constraints(claim.text, translator)
        self.valid = [n for n in claim.cited if 1 <= n <= len(passages)]
        self._reasons: dict[int, str] = {}

    def lacks(self, number: int) -> str:
        """What passage `number` lacks of the claim's facts and wording ("" when nothing)."""
        if number not in self._reasons:
            self._reasons[number] = _facts_missing(self.claim.text, self.constraints, self.passages[number - 1], number)
        return self._reasons[number]

    def quoted(self, number: int) -> bool:
        """Passage `number` holds the claim's facts and nearly all its words: no e5 needed."""
        return not self.lacks(number) and _quotes(self.claim.text, self.passages[number - 1])

    def needs_similarity(self) -> bool:
        """Whether the verdict will ask e5: a passage it tries holds the facts without quoting."""
        if self.question:
            return False
        held = [n for n in self.valid if not self.lacks(n)]
        if held:
            return not all(self.quoted(n) for n in held)
        others = (n for n in range(1, len(self.passages) + 1) if n not in self.valid)
        first = next((n for n in others if not self.lacks(n)), None)
        return first is not None and not self.quoted(first)

    def verdict(self, similarity: np.ndarray, floor: float) -> Verdict:
        claim = self.claim
        if self.question:
            return Verdict(claim, Status.DROPPED, (), "a question, not an answer")

        def unsupported(number: int) -> str:
            lacking = self.lacks(number)
            if lacking or self.quoted(number):
                return lacking
            score = float(similarity[number - 1])
            return "" if score >= floor else f"[{number}] is about something else (similarity {score:.2f})"

        reasons = {n: unsupported(n) for n in self.valid}
        supporting = tuple(n for n in self.valid if not reasons[n])
        if supporting:
            return Verdict(claim, Status.SUPPORTED, supporting)
        why = "; ".join(reasons[n] for n in self.valid) or "cites no passage"
        others = (n for n in range(1, len(self.passages) + 1) if n not in self.valid)
        other = next((n for n in others if not unsupported(n)), None)
        if other is not None:
            return Verdict(claim, Status.RECITED, (other,), why)
        return Verdict(claim, Status.DROPPED, (), why)


@lru_cache(maxsize=2048)
def _bigrams(claim: str) -> frozenset[str]:
    """The claim's distinct CJK character bigrams (asked once per passage window)."""
    return frozenset(run[i : i + 2] for run in CJK_RUN.findall(claim) for i in range(len(run) - 1))


def _coverage(claim: str, text: str) -> float:
    """Share of the claim's CJK character bigrams found in `text` (1.0 with fewer than 3)."""
    bigrams = _bigrams(claim)
    if len(bigrams) < 3:
        return 1.0
    return sum(bigram in text for bigram in bigrams) / len(bigrams)


def _quotes(claim: str, passage: str) -> bool:
    return len(_bigrams(claim)) >= QUOTED_BIGRAMS and max(_coverage(claim, w) for w in _windows(passage)) >= QUOTED_COVERAGE


@lru_cache(maxsize=512)
def _windows(passage: str) -> tuple[str, ...]:
    """The passage's sentences two at a time: where a claim's facts must stand together (a
    passage holding "2027年度" in one sentence and "上海" in another does not say 2027's is in
    Shanghai). Cached: an answer's sentences are checked against the same few passages."""
    sentences = [s for s in _PASSAGE_SENTENCE.findall(passage) if s.strip()] or [passage]
    return tuple(" ".join(sentences[i : i + 2]) for i in range(max(1, len(sentences) - 1)))


def _facts_missing(claim: str, constraints: Sequence[Constraint], passage: str, number: int) -> str:
    """Why passage `number` does not hold the claim's facts or wording ("" when it does)."""
    windows = _windows(passage)
    missing: list[str] | None = None
    for window in windows:
        lacking = missing_facts(claim, constraints, window)
        if missing is None or len(lacking) < len(missing):
            missing = lacking
        if not missing:
            break  # one window holding every fact is enough
    if missing:
        return f"[{number}] lacks " + ", ".join(missing)
    covered = max(_coverage(claim, window) for window in windows)
    if covered < COVERAGE_FLOOR:
        return f"[{number}] says little of it (shares {covered:.0%} of its words)"
    return ""


def best_similarities(claim_vectors: np.ndarray, sentence_vectors: Sequence[np.ndarray]) -> np.ndarray:
    """claims x passages: each claim's cosine with the closest sentence of each passage
    (normalized vectors; `sentence_vectors[p]` is passage p's sentences, one row each)."""
    scores = np.zeros((len(claim_vectors), len(sentence_vectors)), dtype=np.float32)
    for p, rows in enumerate(sentence_vectors):
        if len(rows):
            scores[:, p] = (claim_vectors @ np.asarray(rows).T).max(axis=1)
    return scores
