"""Chunks of a document: whole sentences packed greedily up to a token budget.

Rules:

* Sections run between headings; a chunk never crosses a heading. The title and the nearest
  heading above a section become each chunk's `context` ("深入推进长三角一体化发展 > …"); below a
  headline block (3+ plain headings in a row; ``#`` headings nest as written) only the title.
  Each run of headings is also a chunk of its own: a newspaper's headline and subheads state
  facts people ask about.
* Body paragraphs and list items of a section are split into sentences and packed in order,
  across paragraph boundaries, while `count_tokens(chunk.text) <= settings.max_tokens`.
* Consecutive chunks of a section share their last/first `settings.overlap_sentences`
  sentences, fewer when the overlap would not leave room for a new sentence.
* A sentence that alone exceeds the budget is cut at clause punctuation, then spaces, then
  between characters (`split_to_fit`); the pieces are packed like sentences. So every chunk
  fits the budget (unless one character alone exceeds it).
* A photo caption is a chunk of its own with its section's context; it does not interrupt the
  body chunk around it. Chunks are ordered (`position`) by where they start in the source.

Spans: a chunk reads the source continuously from its first sentence to its last, keeping the
original line breaks and list markers between sentences, except where something else sits in
between (a caption cut out of a rejoined paragraph, a page number): there the chunk's spans break
and its text joins the two sides with no separator. So `chunk.text == text_at(doc.text,
chunk.spans)` always, and every sentence's text is a substring of its chunk's text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

from ingest.cleaning import heading_context, is_marker_gap, paragraphs
from ingest.errors import BadInput
from ingest.records import Chunk, ChunkingSettings, Document, Paragraph, Sentence, Span, text_at
from ingest.sentences import split_sentences, split_to_fit

Group = tuple[list[Sentence], str]  # sentences packed together, and their context


def cover(source: str, sentences: Sequence[Sentence]) -> tuple[Span, ...]:
    """The spans of a chunk made of `sentences` (in source order), by the module's span rule."""
    spans: list[Span] = []
    for sentence in sentences:
        for i, (start, end) in enumerate(sentence.spans):
            # Only the gap before a sentence may be bridged: a gap inside one is a cut the
            # cleaner made on purpose.
            if spans and (spans[-1][1] == start or (i == 0 and is_marker_gap(source[spans[-1][1] : start]))):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return tuple(spans)


HEADLINE_RUN = 3  # this many plain headings in a row are a headline block, not nested sections


def _short_context(context: str) -> str:
    """The title and the nearest heading: a longer chain would outweigh the chunk's own words
    in its embedding (a 5-line newspaper headline block made every chunk look alike)."""
    parts = context.split(" > ")
    return " > ".join([parts[0], parts[-1]] if len(parts) > 2 else parts)


def _is_markdown(source: str, heading: Paragraph) -> bool:
    """Whether `heading` was written with a ``#`` marker (its span starts after the marker)."""
    start = heading.spans[0][0]
    line_start = max(source.rfind("\n", 0, start), source.rfind("\r", 0, start)) + 1
    return source[line_start:start].strip().startswith("#")


def _groups(source: str) -> Iterator[Group]:
    """Sentence groups to pack independently: one per section, one per caption, and one per
    run of headings (headlines and subheads carry facts, so they are searchable too)."""
    found = paragraphs(source)
    contexts = heading_context(source, found)
    title = next((p.text for p in found if p.kind == "heading"), "")
    body: list[Sentence] = []
    section_context = ""  # context of the body and captions of the current section
    opens_section = True  # the next non-heading paragraph starts a section
    run: list[int] = []  # indices of the headings since the last non-heading paragraph

    def flush_run() -> Iterator[Group]:
        if run:
            context = "" if found[run[0]].text == title else title
            yield [s for i in run for s in split_sentences(found[i])], context

    for i, (paragraph, context) in enumerate(zip(found, contexts, strict=True)):
        if paragraph.kind == "heading":
            if body:
                yield body, section_context
                body = []
            run.append(i)
            opens_section = True
            continue
        if opens_section:
            # Every paragraph of a section has the same heading context: fix it once, from the
            # first one, so a caption right below the headings cannot change the body's context.
            plain = sum(1 for h in run if not _is_markdown(source, found[h]))
            section_context = title if plain >= HEADLINE_RUN else _short_context(context)
            opens_section = False
        yield from flush_run()
        run = []
        if paragraph.kind == "caption":
            yield split_sentences(paragraph), section_context
            continue
        body.extend(split_sentences(paragraph))
    if body:
        yield body, section_context
    yield from flush_run()


def _pack(
    units: list[Sentence], fits: Callable[[Sequence[Sentence]], bool], overlap: int
) -> list[list[Sentence]]:
    """Greedy packing with `overlap` sentences carried into the next chunk when they fit."""
    packed: list[list[Sentence]] = []
    current: list[Sentence] = []
    for unit in units:
        if not current or fits([*current, unit]):
            current.append(unit)
            continue
        packed.append(current)
        carried = current[-overlap:] if overlap else []
        while carried and not fits([*carried, unit]):
            carried = carried[1:]
        current = [*carried, unit]
    if current:
        packed.append(current)
    return packed


def chunk_document(
    doc: Document, settings: ChunkingSettings, count_tokens: Callable[[str], int]
) -> list[Chunk]:
    """Split `doc` into chunks of whole sentences within `settings.max_tokens` (module rules).

    count_tokens: the token counter the budget is measured with (tiktoken's in production).
    """
    if settings.max_tokens < 1 or settings.overlap_sentences < 0:
        raise BadInput(
            f"Chunking needs max_tokens >= 1 and overlap_sentences >= 0, got {settings.max_tokens} and "
            f"{settings.overlap_sentences}; fix the chunking settings."
        )
    source = doc.text

    def fits_text(text: str) -> bool:
        return count_tokens(text) <= settings.max_tokens

    def fits(sentences: Sequence[Sentence]) -> bool:
        return fits_text(text_at(source, cover(source, sentences)))

    drafts: list[tuple[tuple[Span, ...], tuple[Sentence, ...], str]] = []
    for sentences, context in _groups(source):
        units = [
            piece for s in sentences for piece in ([s] if fits_text(s.text) else split_to_fit(s, fits_text))
        ]
        for packed in _pack(units, fits, settings.overlap_sentences):
            drafts.append((cover(source, packed), tuple(packed), context))
    drafts.sort(key=lambda draft: (draft[0][0][0], draft[0][-1][1]))
    chunks = []
    for position, (spans, members, context) in enumerate(drafts):
        text = text_at(source, spans)
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
        chunk_id = f"{doc.id}:{spans[0][0]}-{spans[-1][1]}:{digest}"
        chunks.append(Chunk(chunk_id, doc.id, text, spans, members, context, position))
    return chunks


__all__ = ["chunk_document", "cover"]
