"""Sentences of a paragraph, each with spans into the source.

Rules:

* 。！？；… and full-width ． always end a sentence; so do ASCII . ! ? ; right after CJK text (the
  bundled report writes ";" inside Chinese).
* In Latin text, ! and ? end a sentence before a space or the end; . does too unless it ends an
  abbreviation ("Dr.", "e.g.") or initials ("U.S.", "J."), or the next word starts in lower
  case. "3.5" and "example.com" have no space after the dot and never split.
* Runs of terminators ("？！", "……", "?!") and the closing quotes or brackets after them stay with
  the sentence: "他说：“好。”" is one sentence.
* A blank line ends a sentence. A single line break does not: the cleaner keeps one only as the
  word separator where it rejoined a hard-wrapped Latin line.
* Sentences are stripped; their spans exclude the whitespace. A sentence running across a rejoin
  (a caption or page break cut out of its paragraph) has one span per side.
* A sentence longer than `max_chars` is cut at clause punctuation (，、：, etc.), failing that at
  spaces, failing that between characters (see `split_to_fit`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.cleaning import script_near
from ingest.records import Paragraph, Sentence, Span

ALWAYS_STOPS = frozenset("。！？；…．")
STOPS = ALWAYS_STOPS | frozenset(".!?;")
CLOSERS = "”’\"'」』）)】》〉]"
# A run of terminators ("？！", "……", "?!") and the closing quotes or brackets after it.
STOP_RUN = re.compile(f"[{re.escape(''.join(sorted(STOPS)))}]+[{re.escape(CLOSERS)}]*")
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
WORD_BEFORE = re.compile(r"[A-Za-z]+(?:\.[A-Za-z]+)*$")
NEXT_VISIBLE = re.compile(r"\s*(\S)")
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr Prof Sr Jr St Rev Gen Col Lt Sgt Capt Mt Gov Sen Rep No Nos Fig Figs Vol Inc Ltd "
    "Co Corp Dept Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec vs etc e.g i.e cf al approx ca "
    "pp Ph.D".split()
)
# Where a long sentence may be cut, best first: after clause punctuation ("1,000" is not a
# clause break), then at spaces.
CUT_LEVELS = (re.compile(r"[，、：；]|[,:;](?!\d)"), re.compile(r"\s+"))
DEFAULT_MAX_CHARS = 300


def slice_spans(spans: tuple[Span, ...], start: int, end: int) -> tuple[Span, ...]:
    """Source spans of `text[start:end]`, where `text` is the concatenation of `spans`."""
    out: list[Span] = []
    offset = 0
    for span_start, span_end in spans:
        low, high = max(start, offset), min(end, offset + span_end - span_start)
        if low < high:
            out.append((span_start + low - offset, span_start + high - offset))
        offset += span_end - span_start
    return tuple(out)


def _ends_here(text: str, start: int, end: int) -> bool:
    """Whether the run of terminators and closers `text[start:end]` ends a sentence."""
    run = text[start:end]
    if any(c in ALWAYS_STOPS for c in run) or script_near(text, start - 1, -1) == "cjk":
        return True
    if end < len(text) and not text[end].isspace():
        return False  # "3.5", "U.S.A", "example.com"
    if ";" in run and not any(c in ".!?" for c in run):
        return False  # a Latin semicolon joins clauses
    if "!" in run or "?" in run:
        return True
    word = WORD_BEFORE.search(text, max(0, start - 24), start)
    if word and (word.group() in ABBREVIATIONS or all(len(part) == 1 for part in word.group().split("."))):
        return False
    following = NEXT_VISIBLE.match(text, end)
    return following is None or not following.group(1).islower()


def _sentence_ends(text: str) -> list[int]:
    ends = {m.start() for m in BLANK_LINE.finditer(text)}
    ends.update(m.end() for m in STOP_RUN.finditer(text) if _ends_here(text, m.start(), m.end()))
    return sorted(ends)


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _hard_cut(text: str, start: int, end: int, fits: Callable[[str], bool]) -> list[Span]:
    """Cut between characters: the longest prefix that fits, at least one character."""
    out: list[Span] = []
    while start < end:
        low, high = start + 1, end
        while low < high:  # the largest `stop` with fits(text[start:stop]), by bisection
            middle = (low + high + 1) // 2
            if fits(text[start:middle]):
                low = middle
            else:
                high = middle - 1
        out.append((start, low))
        start = low
    return out


def _cut(text: str, start: int, end: int, fits: Callable[[str], bool], level: int = 0) -> list[Span]:
    """Ranges covering `text[start:end]`, each fitting, packed greedily at the best cut level."""
    if fits(text[start:end]):
        return [(start, end)]
    if level == len(CUT_LEVELS):
        return _hard_cut(text, start, end, fits)
    bounds = (
        [start] + [m.end() for m in CUT_LEVELS[level].finditer(text, start, end) if m.end() < end] + [end]
    )
    out: list[Span] = []
    current: Span | None = None
    for part in zip(bounds, bounds[1:], strict=False):
        if part[0] == part[1]:
            continue
        if current and fits(text[current[0] : part[1]]):
            current = (current[0], part[1])
            continue
        if current:
            out.append(current)
        if fits(text[part[0] : part[1]]):
            current = part
        else:
            out.extend(_cut(text, part[0], part[1], fits, level + 1))
            current = None
    if current:
        out.append(current)
    return out


def split_to_fit(sentence: Sentence, fits: Callable[[str], bool]) -> list[Sentence]:
    """`sentence` cut into stripped pieces for which `fits(piece.text)` holds.

    Cuts fall after clause punctuation if that is enough, else at spaces, else between
    characters; a single character that does not fit is still returned on its own.
    """
    pieces = []
    for start, end in _cut(sentence.text, 0, len(sentence.text), fits):
        start, end = _stripped(sentence.text, start, end)
        if start < end:
            pieces.append(Sentence(sentence.text[start:end], slice_spans(sentence.spans, start, end)))
    return pieces


def split_sentences(paragraph: Paragraph, max_chars: int = DEFAULT_MAX_CHARS) -> list[Sentence]:
    """The sentences of `paragraph`, stripped, each with its source spans (see module rules).

    max_chars: a sentence longer than this is cut at clause punctuation (a fallback for text
    without terminators, such as a long list item).
    """
    text = paragraph.text
    out: list[Sentence] = []
    start = 0
    for end in [*_sentence_ends(text), len(text)]:
        low, high = _stripped(text, start, end)
        start = end
        if low == high:
            continue
        sentence = Sentence(text[low:high], slice_spans(paragraph.spans, low, high))
        if len(sentence.text) > max_chars:
            out.extend(split_to_fit(sentence, lambda piece: len(piece) <= max_chars))
        else:
            out.append(sentence)
    return out


__all__ = ["DEFAULT_MAX_CHARS", "slice_spans", "split_sentences", "split_to_fit"]
