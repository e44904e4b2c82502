"""Paragraphs from decoded text: stripped, classified and rejoined, each with spans into the source.

Every line of the source is one piece; blank lines, decorative rules ("----") and page numbers are
dropped. A piece is a "heading" (short, no sentence punctuation; or a Markdown ``#`` line), a "list"
item ("- ", "• ", "1." ...; its span excludes the marker), a "caption" (photo credits such as
"…外景。 新华社图", "图为…", "Photo: …") or "body".

Rejoining: a body piece that does not end a sentence continues in the next body piece when the
break falls inside a sentence, skipping photo captions in between (they come out as their own
paragraphs right after the rejoined one). The break counts as inside a sentence when

* both sides are CJK: joined with no separator ("深化公共服" + "务便利共享");
* the left side ends a hyphenated word ("inter-" + "national"): joined with no separator, the
  hyphen kept, since it cannot be told from a real compound ("well-known");
* both sides are Latin and the right side starts in lower case, or the pieces are consecutive
  lines (a hard wrap): the line break just before the right piece is kept as the word separator,
  so the text reads "agreed to\\nextend". No character is ever invented, which keeps
  ``text_at(source, paragraph.spans) == paragraph.text``.

An indented right piece, a heading, a list item or the end of the text stop the rejoin. A Latin
line shaped like a heading whose next line starts in lower case is taken as body, the start of a
wrapped sentence ("The committee agreed to" / "extend the deadline."). A CJK line needs sentence
punctuation (or more width than a heading) to count as body, so a Chinese sentence broken before
its first comma is not rejoined.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.records import Paragraph, Span, text_at

# A paragraph ending in one of these is complete. Closing quotes count: a quotation that ends a
# line ends its sentence far more often than it breaks one.
TERMINALS = frozenset("。！？；…!?.;:：”」』")
# Any of these inside a line makes it prose rather than a heading. "." and ":" only count before a
# space or the end, so "1.5" or "10:30" do not.
SENTENCE_PUNCT = re.compile(r"[。！？；，、：,;!?]|[.:](?=\s|$)")
# Widest heading, counting a CJK character as two columns (the bundled report's longest is 52).
HEADING_MAX_WIDTH = 60
# Numbering in front of a heading ("一、", "（二）", "第三章", "1.2") is not sentence punctuation.
ENUMERATOR = re.compile(
    r"(?:[一二三四五六七八九十百零]+、|[(（][一二三四五六七八九十百零\d]+[)）]"
    r"|第[一二三四五六七八九十百零\d]+[章节条篇部分]|\d+(?:\.\d+)+\.?)\s*"
)
MARKDOWN_HEADING = re.compile(r"(#{1,6})[ \t]+")
# A bullet or an item number; "1." must not be followed by a digit ("1.5 million").
LIST_MARKER = re.compile(
    r"(?:[•·▪●◦‣][ \t]*|[-*+][ \t]+|\d{1,3}(?:[.)](?!\d)|、)[ \t]*|[(（]\d{1,3}[)）][ \t]*)"
)
BARE_MARKER = re.compile(r"[•·▪●◦‣*+-]|\d{1,3}[.)、]|[(（]\d{1,3}[)）]")
CAPTION = re.compile(
    r"^(?:图为|图片来源|图片说明|图[:：/／]|上图|下图|左图|右图)"
    r"|^(?:Photos?|Images?|Pictures?|Figure|Fig\.)\s*\d*\s*[:：.]"
    r"|^(?:Photos?|Images?)\s+(?:by|courtesy|credit)\b"
    r"|(?:新华社|中新社|人民日报|本报)(?:记者)?[\u4e00-\u9fff·\s]{0,12}(?:摄|图|发)[)）]?$"
    r"|(?:记者|通讯员)\s*[\u4e00-\u9fff·\s]{1,12}摄[)）]?$"
    r"|[。.!！]\s*[^\s。]{1,16}(?:摄|供图)[)）]?$"
    r"|[(（][^()（）]{0,30}(?:摄|供图)[)）]$"
    r"|[(（](?:Photos?|Images?|Pictures?)\b[^()（）]{0,80}[)）]$"
    r"|[.!?]\s+(?:Photos?|Images?|Pictures?)\s*(?:by|:|/)\s*[^.]{1,60}$",
    re.IGNORECASE,
)
CAPTION_MAX_CHARS = 300
PAGE_NUMBER = re.compile(
    r"(?:[-–—]\s*)?(?:page\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?(?:\s*[-–—])?"
    r"|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?",
    re.IGNORECASE,
)
LINE = re.compile(r"[^\r\n]+")
LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class _Piece:
    """One kept line: its content span (markers and surrounding whitespace excluded) and kind."""

    start: int
    end: int
    kind: str
    indented: bool
    marked: bool = False  # kind given by a marker ("# ", "- "), not guessed from the shape


def is_cjk(char: str) -> bool:
    """True for Han, kana and hangul characters and CJK or full-width punctuation."""
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # CJK punctuation, kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms: ，（）！
        or 0x20000 <= code <= 0x3134F
    )


def script_near(text: str, index: int, step: int) -> str:
    """The script of the first letter from `index` on, walking by `step` over at most three
    punctuation marks: "cjk", "latin" or "" (the report writes ASCII "," and "(" in Chinese)."""
    for _ in range(4):
        if not 0 <= index < len(text):
            return ""
        char = text[index]
        if is_cjk(char):
            return "cjk"
        if char.isalnum():
            return "latin"
        if unicodedata.category(char)[0] not in "PS":
            return ""
        index += step
    return ""


def display_width(text: str) -> int:
    """Columns `text` takes in a monospace font: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def ends_sentence(text: str) -> bool:
    """Whether `text` (already stripped) ends with terminal punctuation."""
    return bool(text) and text[-1] in TERMINALS


def is_caption(text: str) -> bool:
    """Photo captions and credits: "…外景。 新华社图", "图为…", "Photo: …", "(记者 李明 摄)"."""
    return len(text) <= CAPTION_MAX_CHARS and CAPTION.search(text) is not None


def is_heading(text: str) -> bool:
    """A short line with no sentence punctuation that does not read as a wrapped sentence."""
    if display_width(text) > HEADING_MAX_WIDTH or ends_sentence(text) or text[0].islower():
        return False
    words = ENUMERATOR.sub("", text, count=1) if ENUMERATOR.match(text) else text
    return SENTENCE_PUNCT.search(words) is None


def is_marker_gap(gap: str) -> bool:
    """Whether the text between two paragraphs is only whitespace and list markers.

    Such a gap can be kept inside a chunk's span; anything else (a caption, a page number) cannot.
    """
    return all(BARE_MARKER.fullmatch(line.strip()) for line in gap.splitlines() if line.strip())


def _classify(source: str, start: int, end: int) -> _Piece | None:
    """The piece for the line `source[start:end]`, or None for a line with nothing to keep."""
    raw = source[start:end]
    body = raw.strip()
    if not any(c.isalnum() for c in body) or PAGE_NUMBER.fullmatch(body):
        return None
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    indented = start > 0 and source[start - 1] not in "\r\n"
    for pattern, kind in ((MARKDOWN_HEADING, "heading"), (LIST_MARKER, "list")):
        marker = pattern.match(source, start, end)
        if marker:
            content = source[marker.end() : end].lstrip()
            return _Piece(end - len(content), end, kind, indented, marked=True) if content else None
    if is_caption(body):
        return _Piece(start, end, "caption", indented)
    return _Piece(start, end, "heading" if is_heading(body) else "body", indented)


def _pieces(source: str) -> list[_Piece]:
    found = (_classify(source, m.start(), m.end()) for m in LINE.finditer(source))
    pieces = [piece for piece in found if piece is not None]
    # A Latin line that looks like a heading but is continued in lower case ("The committee
    # agreed to" / "extend the deadline.") is the start of a wrapped sentence.
    for i, piece in enumerate(pieces):
        if piece.kind == "heading" and not piece.marked and source[piece.end - 1].isascii():
            after = next((p for p in pieces[i + 1 :] if p.kind != "caption"), None)
            if after is not None and after.kind == "body" and source[after.start].islower():
                pieces[i] = replace(piece, kind="body")
    return pieces


def _separator(source: str, left_end: int, right: _Piece, crossed_caption: bool) -> int | None:
    """Characters to keep before `right` when it continues the text ending at `left_end`:
    0 (join directly), 1 (keep the line break as a word separator) or None (no rejoin)."""
    if right.kind != "body" or right.indented:
        return None
    left, first = source[left_end - 1], source[right.start]
    left_script = script_near(source, left_end - 1, -1)
    right_script = script_near(source, right.start, 1)
    # A hard wrap: the two lines are adjacent, with nothing but one line break between them.
    hard_wrap = not crossed_caption and len(LINE_BREAK.findall(source, left_end, right.start)) == 1
    if left == "-" and source[left_end - 2 : left_end - 1].isalpha() and first.islower():
        return 0
    if left_script == "cjk" and right_script == "cjk":
        return 0
    if hard_wrap and "cjk" in (left_script, right_script):
        return 0
    if left_script == "latin" and (hard_wrap or first.islower()):
        return 1
    return None


def _merged(spans: list[Span]) -> tuple[Span, ...]:
    """Spans with touching neighbours merged, so each gap in a paragraph is a real cut."""
    out: list[Span] = []
    for start, end in spans:
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return tuple(out)


def _paragraph(source: str, spans: list[Span], kind: str) -> Paragraph:
    merged = _merged(spans)
    return Paragraph(text=text_at(source, merged), spans=merged, kind=kind)


def paragraphs(text: str) -> list[Paragraph]:
    """Split decoded text into classified paragraphs, rejoining sentences broken by a caption,
    a page break or a hard wrap (see the module docstring for the rules)."""
    pieces = _pieces(text)
    out: list[Paragraph] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        i += 1
        if piece.kind != "body":
            out.append(_paragraph(text, [(piece.start, piece.end)], piece.kind))
            continue
        spans = [(piece.start, piece.end)]
        lifted: list[_Piece] = []  # captions cut out of the middle of this paragraph
        while not ends_sentence(text[spans[-1][1] - 1]):
            j = i
            while j < len(pieces) and pieces[j].kind == "caption":
                j += 1
            if j == len(pieces):
                break
            separator = _separator(text, spans[-1][1], pieces[j], crossed_caption=j > i)
            if separator is None:
                break
            lifted.extend(pieces[i:j])
            spans.append((pieces[j].start - separator, pieces[j].end))
            i = j + 1
        out.append(_paragraph(text, spans, "body"))
        out.extend(_paragraph(text, [(c.start, c.end)], "caption") for c in lifted)
    return out


def title(found: Sequence[Paragraph]) -> str:
    """The document title: its first heading, or "" when it has none."""
    return next((p.text for p in found if p.kind == "heading"), "")


def _markdown_level(source: str, paragraph: Paragraph) -> int | None:
    """1-6 for a ``#`` heading, read from the marker in front of its span; None otherwise."""
    start = paragraph.spans[0][0]
    line_start = max(source.rfind("\n", 0, start), source.rfind("\r", 0, start)) + 1
    marker = source[line_start:start].strip()
    return len(marker) if marker and set(marker) == {"#"} and len(marker) <= 6 else None


def heading_context(source: str, found: Sequence[Paragraph]) -> list[str]:
    """For each paragraph, the headings above it, outermost first, joined with " > ".

    The title (first heading) always leads. Markdown ``#`` levels nest as written. Plain-text
    headings have no levels, so a run of consecutive headings nests in order (a newspaper's
    headline and subheads) and a heading after body text starts a new top-level section. In a
    document that uses ``#``, a plain heading sits below every ``#`` heading. A heading's own
    context is what lies above it.
    """
    levels = [_markdown_level(source, p) if p.kind == "heading" else None for p in found]
    uses_markdown = any(level is not None for level in levels)
    title_at = next((i for i, p in enumerate(found) if p.kind == "heading"), None)
    stack: list[tuple[int, int]] = []  # (level, paragraph index)
    contexts: list[str] = []
    previous_heading = False
    for i, paragraph in enumerate(found):
        level = levels[i]
        if paragraph.kind == "heading" and level is None:
            level = 7 if uses_markdown else (stack[-1][0] + 1 if previous_heading and stack else 1)
        if level is not None:  # a heading: its context is what remains above it
            while stack and stack[-1][0] >= level:
                stack.pop()
        names = [index for _, index in stack]
        if title_at is not None and title_at not in names and title_at != i:
            names.insert(0, title_at)
        contexts.append(" > ".join(found[index].text for index in names))
        if level is not None:
            stack.append((level, i))
        previous_heading = paragraph.kind == "heading"
    return contexts


__all__ = [
    "display_width",
    "ends_sentence",
    "heading_context",
    "is_caption",
    "is_cjk",
    "is_heading",
    "is_marker_gap",
    "paragraphs",
    "script_near",
    "title",
]
