"""Synthetic near-miss (unanswerable) questions from a SQuAD-format benchmark such as XQuAD.

A near miss asks the same thing as a real question about something its paragraph never
mentions: one constraint of the question (a person, place, organization, number, year, date or
ordinal) is swapped for a value of the same kind taken from another paragraph's question, and
the new value must be absent from the gold paragraph in every surface form we can check (the
string itself; for numbers, years and ordinals also their digits and numeral words; for English
also the Chinese form when the aligned Chinese question shows it). The original question is kept
beside its near misses, so a learner gets matched answerable/unanswerable pairs.

Constraints come from jieba's part-of-speech tags and regular expressions in Chinese, and from
capitalized-word runs and regular expressions in English. English names get their kind from the
aligned Chinese question (one name on each side: the English name has the Chinese name's kind)
or from a cue word ("University", "River").

    python -m eval.near_miss xquad.zh.json --en xquad.en.json --out near_miss.jsonl --seed 0

`split_of` puts each paragraph in "dev" or "test" by a hash of its text, so a refusal model can
be fitted on dev paragraphs and measured on test paragraphs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.text import CJK, jieba_posseg
from rag.retrieval.glossary import chinese_number

KINDS = ("person", "place", "org", "number", "year", "ordinal", "date")
_NAME_KINDS = ("person", "place", "org")

# jieba tags -> kind; nz (other proper noun) is left out: it mixes works, teams and fragments.
_ZH_TAGS = {"nr": "person", "nrt": "person", "nrfg": "person", "ns": "place", "nt": "org"}
# A transliterated foreign name: 卡万·肖特. jieba splits these into fragments of mixed tags.
_ZH_DOTTED_NAME = re.compile(rf"[{CJK}]{{1,8}}(?:[·・][{CJK}]{{1,8}})+")
_ZH_NUMERAL = "零〇一二两三四五六七八九十百千"
_ZH_DATE = re.compile(r"(?:\d{3,4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]")
_ZH_YEAR = re.compile(r"(?<!\d)(\d{3,4})\s*年(?!\s*\d{1,2}\s*月)")
_ZH_ORDINAL = re.compile(rf"第\s*(\d{{1,3}}|[{_ZH_NUMERAL}]{{1,4}})(?=\s*[届次个位名章条世代任期号轮场季])")
# Digits glued to letters ("3rd", "AS-206"'s letters aside) are no count; the lookarounds skip them.
_NUMBER = re.compile(r"(?<![\d.,A-Za-z])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d,.]?\d|[A-Za-z])")

_MONTHS = "January February March April May June July August September October November December".split()
_EN_DATE = re.compile(rf"\b(?:{'|'.join(_MONTHS)})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b")
_EN_YEAR = re.compile(r"(?<![\d,.])(1[0-9]{3}|20[0-9]{2})(?![\d,.])")
_EN_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
)
_EN_ORDINAL = re.compile(
    rf"(?<=\bthe )(?:\d{{1,3}}(?:st|nd|rd|th)|{'|'.join(_EN_ORDINAL_WORDS)})\b", re.IGNORECASE
)
_EN_WORD = re.compile(r"[A-Za-z][\w'.-]*")
_EN_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()
# Capitalized words that are no name mid-question (a capital "Who" in "Doctor Who" is one).
_EN_NOT_NAME = frozenset({"i"}) | {m.lower() for m in _MONTHS}
# Adjectives of nationality ("English colony"): swapping in a noun ("Baghdad colony") reads wrong.
_EN_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ish|ese|ian|ean|ic)|French|Dutch|Greek|German|Normans?|Swiss|Thai")
_EN_NAME_JOINERS = frozenset({"of", "de", "von", "van", "the", "and", "du", "da", "la"})
_EN_ORG_CUES = frozenset(
    "university college school company corporation corp inc council committee party army navy "
    "church bank association society institute league club commission agency ministry "
    "department court parliament congress government union federation network broadcasting "
    "foundation academy museum team".split()
)
_EN_PLACE_CUES = frozenset(
    "river mountains mountain ocean sea lake island islands valley city county state province "
    "kingdom empire republic bay desert basin coast street avenue square park".split()
)
# A name fragment is followed in the question by more of the same name; a particle is not.
_ZH_PARTICLES = set("的在了是和与及对于为被把从到年月日等这那其中上下里内外之所有也都还就又将向由以而或")


@dataclass(frozen=True)
class Constraint:
    """One swappable value in a question: where it is, what it is and its text."""

    start: int
    end: int
    kind: str
    value: str


@dataclass(frozen=True)
class Item:
    """One question with its paragraph, in one language."""

    qid: str
    language: str
    question: str
    answers: tuple[str, ...]
    context_id: int
    article: str
    context: str  # the paragraph in the question's language
    other_context: str  # the aligned paragraph in the other language ("" without one)


@dataclass(frozen=True)
class Row:
    id: str
    language: str
    question: str
    answerable: bool
    answers: list[str]
    context_id: int
    split: str
    kind: str | None
    original_question: str
    original_value: str | None
    swapped_value: str | None


def split_of(context: str) -> str:
    """ "dev" or "test" for a paragraph, by a hash of its text: about half each, stable."""
    digest = hashlib.sha256(context.encode("utf-8")).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


# ---- constraints -------------------------------------------------------------------------


def zh_constraints(question: str) -> list[Constraint]:
    """Persons, places, organizations, numbers, years, dates and ordinals in a Chinese question."""
    pseg = jieba_posseg()
    found: list[Constraint] = []
    for pattern, kind in ((_ZH_DATE, "date"), (_ZH_ORDINAL, "ordinal")):
        found += [Constraint(m.start(), m.end(), kind, m.group(0)) for m in pattern.finditer(question)]
    found += [Constraint(m.start(1), m.end(1), "year", m.group(1)) for m in _ZH_YEAR.finditer(question)]
    found += [Constraint(m.start(), m.end(), "number", m.group(0)) for m in _NUMBER.finditer(question)]
    tokens: list[tuple[int, int, str]] = []
    position = 0
    for word, flag in pseg.cut(question):
        tokens.append((position, position + len(word), flag))
        position += len(word)
    found += _dotted_names(question, tokens) + _tagged_names(question, tokens)
    return _non_overlapping(found)


def _dotted_names(question: str, tokens: list[tuple[int, int, str]]) -> list[Constraint]:
    """Transliterated names (卡万·肖特): one jieba word on each side of each dot."""
    names = []
    for i, (start, end, _) in enumerate(tokens):
        if question[start:end] not in ("·", "・") or i == 0 or i + 1 == len(tokens):
            continue
        left, right = tokens[i - 1], tokens[i + 1]
        if _ZH_DOTTED_NAME.fullmatch(question[left[0] : right[1]]):
            names.append(Constraint(left[0], right[1], "person", question[left[0] : right[1]]))
    # Chained dots (约翰·F·肯尼迪-like) give overlapping pairs: merge them into one name.
    merged: list[Constraint] = []
    for c in names:
        if merged and merged[-1].end >= c.start:
            c = Constraint(merged[-1].start, c.end, "person", question[merged[-1].start : c.end])
            merged[-1] = c
        else:
            merged.append(c)
    return merged


def _tagged_names(question: str, tokens: list[tuple[int, int, str]]) -> list[Constraint]:
    run: list[tuple[int, int, str]] = []
    for start, position, flag in tokens:
        kind = _ZH_TAGS.get(flag)
        # jieba cuts an unknown foreign name into pieces (格雷厄姆 + 特威格): join adjacent persons.
        if kind == "person" and run and run[-1][2] == "person" and run[-1][1] == start:
            run[-1] = (run[-1][0], position, kind)
        elif kind:
            run.append((start, position, kind))
    return [Constraint(s, e, k, question[s:e]) for s, e, k in run]


def en_constraints(question: str) -> list[Constraint]:
    """Names (kind still unknown: ""), numbers, years, dates and ordinals in an English question."""
    found = [Constraint(m.start(), m.end(), "date", m.group(0)) for m in _EN_DATE.finditer(question)]
    found += [Constraint(m.start(), m.end(), "ordinal", m.group(0)) for m in _EN_ORDINAL.finditer(question)]
    found += [Constraint(m.start(), m.end(), "year", m.group(0)) for m in _EN_YEAR.finditer(question)]
    found += [Constraint(m.start(), m.end(), "number", m.group(0)) for m in _NUMBER.finditer(question)]
    found += [Constraint(s, e, "", question[s:e]) for s, e in _capitalized_runs(question)]
    return _non_overlapping(found)


def _capitalized_runs(question: str) -> list[tuple[int, int]]:
    """Spans of capitalized words after the first word, joined across "of"/"de" ("Bank of China")."""
    words = list(_EN_WORD.finditer(question))
    runs: list[tuple[int, int]] = []
    current: list[re.Match[str]] = []
    for index, match in enumerate(words):
        word = match.group(0)
        adjacent = not current or question[current[-1].end() : match.start()] == " "
        capital = index > 0 and word[0].isupper() and word.lower() not in _EN_NOT_NAME
        if capital and adjacent:
            current.append(match)
            continue
        if current and word.lower() in _EN_NAME_JOINERS and adjacent:
            current.append(match)
            continue
        runs += _close_run(current)
        current = [match] if capital else []
    runs += _close_run(current)
    return runs


def _close_run(run: list[re.Match[str]]) -> list[tuple[int, int]]:
    while run and run[-1].group(0).lower() in _EN_NAME_JOINERS:
        run = run[:-1]
    if not run or (len(run) == 1 and _EN_DEMONYM.fullmatch(run[0].group(0))):
        return []
    end = run[-1].end() - (2 if run[-1].group(0).endswith("'s") else 0)  # keep "'s" outside the name
    return [(run[0].start(), end)]


def _non_overlapping(found: list[Constraint]) -> list[Constraint]:
    """Earlier-listed (more specific) constraints win over later ones that overlap them."""
    kept: list[Constraint] = []
    for c in found:
        if c.value.strip() and all(c.end <= k.start or c.start >= k.end for k in kept):
            kept.append(c)
    return sorted(kept, key=lambda c: c.start)


def name_kind_by_cue(name: str) -> str:
    """ "org" or "place" when a word of an English name says so, else ""."""
    words = {w.lower() for w in name.split()}
    if words & _EN_ORG_CUES:
        return "org"
    if words & _EN_PLACE_CUES:
        return "place"
    return ""


def name_lexicon(pairs: Iterable[tuple[list[Constraint], list[Constraint]]]) -> dict[str, tuple[str, str]]:
    """Name -> (kind, the name in the other language), from aligned questions with one name each.

    Holds both directions ("Jared Allen" -> ("person", "贾里德·艾伦") and back). The kind is
    jieba's unless a cue word of the English name says otherwise ("Hyde Park" is a place).
    Pairing with a capitalized English name also tells a proper noun from a common noun jieba
    mistagged (叶绿体 pairs with "chloroplasts", no name, so it never enters).
    """
    votes: dict[str, Counter[tuple[str, str]]] = {}
    for en, zh in pairs:
        en_names = [c for c in en if c.kind in ("", *_NAME_KINDS)]
        zh_names = [c for c in zh if c.kind in _NAME_KINDS]
        if len(en_names) == 1 and len(zh_names) == 1:
            en_value, zh_value = en_names[0].value, zh_names[0].value
            kind = name_kind_by_cue(en_value) or zh_names[0].kind
            if kind == "person" and re.search(r"[人军队族国省市州]$", zh_value):
                continue  # a people or a country (诺曼人, 德军), not a person
            votes.setdefault(en_value, Counter())[(kind, zh_value)] += 1
            votes.setdefault(zh_value, Counter())[(kind, en_value)] += 1
    # A name jieba tags differently in different questions keeps its majority kind; a tie drops it.
    lexicon: dict[str, tuple[str, str]] = {}
    for value, counter in votes.items():
        ranked = counter.most_common()
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            lexicon[value] = ranked[0][0]
    return lexicon


# ---- surface checks ----------------------------------------------------------------------


def _small_number(value: str) -> int | None:
    digits = re.sub(r"\D", "", value)
    return int(digits) if digits and len(digits) <= 3 and "." not in value else None


def surface_forms(value: str, kind: str) -> list[str]:
    """The strings whose presence in a paragraph would mean it may mention `value`."""
    if kind in _NAME_KINDS:
        parts = re.split(r"[·・]", value) if re.search(r"[·・]", value) else []
        if kind == "person" and " " in value:
            parts = [value.split()[-1]]  # a surname alone ("Allen") still names the person
        return [value, *(p for p in parts if len(p) >= 2)]
    if kind == "date":
        return [value, *re.findall(r"\d+\s*月\s*\d+", value)]
    forms = [value]
    digits = re.sub(r"[^\d.]", "", value)
    if digits:
        forms.append(digits)
    n = _small_number(value)
    if n is not None and n < 100:
        forms += [chinese_number(n)]
        if kind == "ordinal":
            forms += [f"第{chinese_number(n)}", f"第{n}"]
            if 1 <= n <= len(_EN_ORDINAL_WORDS):
                forms.append(_EN_ORDINAL_WORDS[n - 1])
        elif n < len(_EN_NUMBER_WORDS):
            forms.append(_EN_NUMBER_WORDS[n])
    return forms


def mentions(text: str, form: str) -> bool:
    """Whether `text` contains `form`: digits as a whole number, words as whole words, CJK as a substring."""
    if re.fullmatch(r"[\d.]+", form):
        plain = re.sub(r"(?<=\d),(?=\d{3})", "", text)
        return re.search(rf"(?<![\d.]){re.escape(form)}(?![\d])", plain) is not None
    if re.fullmatch(r"[A-Za-z][\w .'-]*", form):
        return re.search(rf"\b{re.escape(form)}\b", text, re.IGNORECASE) is not None
    if form in _ZH_NUMERAL or len(form) == 1:
        # A lone numeral (五) is inside too many words (五月, 第五) to mean the number.
        return (
            re.search(rf"(?<![{_ZH_NUMERAL}第]){re.escape(form)}(?=\s*[次个位名年人届场])", text) is not None
        )
    return form in re.sub(r"\s+", "", text) or form in text


def _zh_ordinal_value(value: str) -> int | None:
    body = re.sub(r"^第\s*", "", value)
    if body.isdigit():
        return int(body)
    units = "零一二三四五六七八九"
    if body in ("十",):
        return 10
    if re.fullmatch(rf"[{units}两]?十?[{units}]?", body) and body:
        tens, _, unit = body.partition("十")
        if "十" not in body:
            return units.find(body) if body in units else None
        return (units.find(tens) if tens else 1) * 10 + (units.find(unit) if unit else 0)
    return None


def absent(value: str, kind: str, texts: Iterable[str]) -> bool:
    """True when no surface form of `value` occurs in any of `texts`."""
    forms = surface_forms(value, kind)
    if kind == "ordinal":
        n = _zh_ordinal_value(value) if value.startswith("第") else _small_number(value)
        if n is None and value.lower() in _EN_ORDINAL_WORDS:
            n = _EN_ORDINAL_WORDS.index(value.lower()) + 1
        if n is not None:
            forms += surface_forms(str(n), "ordinal")
    return not any(mentions(text, form) for text in texts if text for form in forms)


# ---- swapping ----------------------------------------------------------------------------


def _shape(value: str, kind: str) -> str:
    """Donors must have the original's shape: a 3-digit number for a 3-digit number, etc."""
    if kind == "number":
        return f"n{len(re.sub(r'[^0-9]', '', value.split('.')[0]))}{'.' if '.' in value else ''}"
    if kind == "ordinal":
        return "digit" if re.search(r"\d", value) else "word"
    if kind == "date":
        return "year" if re.search(r"\d{4}", value) else "day"
    return ""


def _grounded(item: Item, c: Constraint) -> bool:
    """The original value is in the gold paragraph, so the question is about it."""
    if c.kind in ("number", "year"):
        return mentions(item.context, re.sub(r"[^\d.]", "", c.value))
    return not absent(c.value, c.kind, [item.context])


def _fragment(item: Item, c: Constraint) -> bool:
    """A Chinese name span that the paragraph continues on either side is a piece of a longer name."""
    if item.language != "zh" or c.kind not in _NAME_KINDS:
        return False
    q = item.question
    before = q[c.start - 1 : c.end] if c.start > 0 and q[c.start - 1] not in _ZH_PARTICLES else ""
    after = q[c.start : c.end + 1] if c.end < len(q) and q[c.end] not in _ZH_PARTICLES else ""
    return any(s and re.search(rf"[{CJK}]", s[0] + s[-1]) and s in item.context for s in (before, after))


def acceptable(kind: str, value: str, language: str) -> bool:
    """Quality filter on a value: a name is a name (no digits, 2+ characters in Chinese)."""
    if kind in _NAME_KINDS:
        if re.search(r"\d", value):
            return False
        if language == "zh":
            return len(value) >= 2 and re.fullmatch(rf"[{CJK}·・]+", value) is not None
        return len(value) >= 3 and value[0].isupper()
    if kind == "number":
        return re.fullmatch(r"[\d,.]+", value) is not None
    return True


@dataclass(frozen=True)
class Donor:
    value: str
    kind: str
    context_id: int
    article: str
    other_value: str  # the name in the other language, when alignment gives one


def typed_constraints(
    item: Item, raw: list[Constraint], lexicon: dict[str, tuple[str, str]]
) -> list[Constraint]:
    """The item's constraints with a known kind that pass the quality filter.

    With an aligned other language, a name needs a lexicon entry (its kind then comes from
    there); without one, Chinese names keep jieba's kind and English names need a cue word.
    """
    typed = []
    for c in raw:
        if c.kind and c.kind not in _NAME_KINDS:
            kind = c.kind
        elif item.other_context:
            kind = lexicon.get(c.value, ("", ""))[0]
        else:
            kind = c.kind or name_kind_by_cue(c.value)
        if kind and acceptable(kind, c.value, item.language):
            typed.append(Constraint(c.start, c.end, kind, c.value))
    return typed


def donors_of(
    items: list[Item],
    constraints: dict[tuple[str, str], list[Constraint]],
    lexicon: dict[str, tuple[str, str]],
) -> dict[tuple[str, str], list[Donor]]:
    """(language, kind) -> values of that kind in any question, with where they came from."""
    pool: dict[tuple[str, str], dict[tuple[str, int], Donor]] = {}
    for item in items:
        for c in constraints[(item.qid, item.language)]:
            other_value = lexicon.get(c.value, ("", ""))[1] if c.kind in _NAME_KINDS else ""
            donor = Donor(c.value, c.kind, item.context_id, item.article, other_value)
            pool.setdefault((item.language, c.kind), {}).setdefault((c.value, item.context_id), donor)
    return {
        key: sorted(values.values(), key=lambda d: (d.value, d.context_id)) for key, values in pool.items()
    }


def swap_candidates(item: Item, c: Constraint, donors: list[Donor]) -> list[Donor]:
    """Donor values for constraint `c` that the item's paragraph never mentions, other articles first."""
    fits = []
    for d in donors:
        if d.context_id == item.context_id or d.value == c.value:
            continue
        if d.value in c.value or c.value in d.value or _shape(d.value, c.kind) != _shape(c.value, c.kind):
            continue
        if not absent(d.value, c.kind, [item.context, item.other_context]):
            continue
        if d.other_value and not absent(d.other_value, c.kind, [item.other_context]):
            continue
        fits.append(d)
    elsewhere = [d for d in fits if d.article != item.article]
    return elsewhere or fits


def near_misses(
    item: Item,
    constraints: list[Constraint],
    donors: dict[tuple[str, str], list[Donor]],
    seed: int,
    per_question: int,
) -> list[Row]:
    """Up to `per_question` near misses of one item, each swapping one constraint; deterministic."""
    rng = random.Random(f"{seed}:{item.qid}:{item.language}")
    usable = [c for c in constraints if _grounded(item, c) and not _fragment(item, c)]
    rng.shuffle(usable)
    options = [(c, swap_candidates(item, c, donors.get((item.language, c.kind), []))) for c in usable]
    options = [(c, list(cands)) for c, cands in options if cands]
    rows: list[Row] = []
    while options and len(rows) < per_question:
        for c, cands in list(options):
            if len(rows) >= per_question:
                break
            donor = cands.pop(rng.randrange(len(cands)))
            value = donor.value
            if c.kind == "ordinal" and value.isalpha():
                value = value.capitalize() if c.value[0].isupper() else value.lower()
            question = item.question[: c.start] + value + item.question[c.end :]
            rows.append(
                Row(
                    id=f"{item.qid}:{item.language}:swap{len(rows)}",
                    language=item.language,
                    question=question,
                    answerable=False,
                    answers=[],
                    context_id=item.context_id,
                    split="",
                    kind=c.kind,
                    original_question=item.question,
                    original_value=c.value,
                    swapped_value=value,
                )
            )
            if not cands:
                options.remove((c, cands))
    return rows


def generate(items: list[Item], seed: int = 0, per_question: int = 1) -> list[Row]:
    """For each item with at least one near miss: the original question, then its near misses."""
    raw = {
        (i.qid, i.language): (zh_constraints if i.language == "zh" else en_constraints)(i.question)
        for i in items
    }
    by_id = _by_qid(raw)
    lexicon = name_lexicon(
        (langs["en"], langs["zh"]) for langs in by_id.values() if {"en", "zh"} <= langs.keys()
    )
    constraints = {
        (i.qid, i.language): typed_constraints(i, raw[(i.qid, i.language)], lexicon) for i in items
    }
    donors = donors_of(items, constraints, lexicon)
    rows: list[Row] = []
    for item in items:
        swaps = near_misses(item, constraints[(item.qid, item.language)], donors, seed, per_question)
        if not swaps:
            continue
        original = Row(
            f"{item.qid}:{item.language}", item.language, item.question, True, list(item.answers),
            item.context_id, "", None, item.question, None, None,
        )  # fmt: skip
        split = split_of(
            item.context if item.language == "zh" or not item.other_context else item.other_context
        )
        rows += [Row(**{**asdict(r), "split": split}) for r in (original, *swaps)]
    return rows


def _by_qid(raw: dict[tuple[str, str], list[Constraint]]) -> dict[str, dict[str, list[Constraint]]]:
    grouped: dict[str, dict[str, list[Constraint]]] = {}
    for (qid, language), found in raw.items():
        grouped.setdefault(qid, {})[language] = found
    return grouped


# ---- loading and CLI ---------------------------------------------------------------------


def load_items(zh_path: Path, en_path: Path | None = None) -> list[Item]:
    """Chinese items from `zh_path` and, with `en_path`, the aligned English items (same ids).

    context_id is the paragraph's index in the Chinese file; English paragraphs are matched to
    it through their questions' ids. Raises BadInput (from eval.squad) for unreadable files.
    """
    from eval.squad import load_squad

    zh = load_squad(zh_path)
    index = {p.id: i for i, p in enumerate(zh.passages)}
    zh_text = {p.id: p.text for p in zh.passages}
    titles = {p.id: p.title for p in zh.passages}
    en_text: dict[int, str] = {}
    en_items: list[tuple[str, str, tuple[str, ...], int]] = []
    if en_path is not None:
        en = load_squad(en_path)
        en_passage = {p.id: p.text for p in en.passages}
        gold = {q.id: index[q.gold_passage_id] for q in zh.questions}
        for q in en.questions:
            if q.id in gold:
                en_text[gold[q.id]] = en_passage[q.gold_passage_id]
                en_items.append((q.id, q.question, q.answers, gold[q.id]))
    by_index = {i: pid for pid, i in index.items()}
    items = []
    for q in zh.questions:
        cid = index[q.gold_passage_id]
        items.append(Item(q.id, "zh", q.question, q.answers, cid, titles[q.gold_passage_id],
                          zh_text[q.gold_passage_id], en_text.get(cid, "")))  # fmt: skip
    items += [
        Item(qid, "en", question, answers, cid, titles[by_index[cid]], en_text[cid], zh_text[by_index[cid]])
        for qid, question, answers, cid in en_items
    ]
    return items


def write_jsonl(rows: list[Row], path: Path) -> None:
    """One row per line, with the labelled set's fields too (eval.dataset): `rag eval --dataset
    FILE --index DIR` runs it over the benchmark's index (the one `rag eval --squad` builds),
    its false answers per swapped kind as the category."""
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            labelled = {
                "evidence": row.answers[0] if row.answers else "",
                "type": "",
                "paragraph": str(row.context_id),
                "category": row.kind or "answerable",
            }
            out.write(json.dumps(asdict(row) | labelled, ensure_ascii=False) + "\n")


def counts(rows: list[Row]) -> Counter[tuple[str, str]]:
    """Near misses per (kind, language)."""
    return Counter((r.kind or "", r.language) for r in rows if not r.answerable)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.near_miss", description=__doc__.split("\n\n")[0])
    parser.add_argument("zh_json", type=Path, help="SQuAD-format file in Chinese (e.g. xquad.zh.json)")
    parser.add_argument("--en", type=Path, help="the parallel English file (same question ids)")
    parser.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-question", type=int, default=1, help="near misses per question (at most)")
    args = parser.parse_args(argv)
    from ingest.errors import RagError

    try:
        rows = generate(load_items(args.zh_json, args.en), seed=args.seed, per_question=args.per_question)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_jsonl(rows, args.out)
    table = counts(rows)
    languages = sorted({lang for _, lang in table})
    print("kind      " + "".join(f"{lang:>8}" for lang in languages))
    for kind in KINDS:
        print(f"{kind:<10}" + "".join(f"{table[(kind, lang)]:>8}" for lang in languages))
    originals = Counter(r.language for r in rows if r.answerable)
    print(f"answerable originals: {dict(originals)}; near misses: {sum(table.values())}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
