"""HTML for the chat page: questions, answers with linked [n] markers, the sources panel.

Pure functions over strings and records, so they are tested without a browser. Every piece of
text from a question, an answer or a passage goes through `html.escape`: it is data, never
markup (the sources panel is inserted with innerHTML, unsanitised).

Ids tie markers to passages: marker [n] of turn t links to `#rr-src-t-n`, the card of that
citation in the sources panel; related (not-an-answer) passages are `rr-rel-t-r`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from ingest.records import Span
from rag.records import Answer, Citation, Hit

MARKER = re.compile(r"\[(\d+)\]")
PASSAGE_PREVIEW_CHARS = 600  # a related passage longer than this is cut (with an ellipsis)

HINT_NOT_FOUND = {
    "zh": "报告中最接近的段落列在“来源”中，仅供参考，并非答案。",
    "en": "The closest passages in the report are listed under Sources as related, not as an answer.",
}
PARTIAL_BADGE = "部分证据 / Partial evidence"
PARTIAL_BANNER = "报告提到了相关内容，但没有回答这个问题 / The report mentions this but does not answer the question:"
SOURCES_EMPTY = (
    '<div class="rr-sources-empty"><p><b>来源 / Sources</b></p>'
    "<p>每个回答引用的段落会显示在这里，引用的句子会高亮。</p>"
    "<p>The passages each answer cites appear here, with the cited sentence highlighted.</p></div>"
)


def citation_id(turn: int, n: int) -> str:
    return f"rr-src-{turn}-{n}"


def related_id(turn: int, rank: int) -> str:
    return f"rr-rel-{turn}-{rank}"


# --- chat messages ------------------------------------------------------------------------
def question_html(question: str) -> str:
    """A user message: the question as text."""
    return f'<p class="rr-question">{_lines(question)}</p>'


def link_markers(escaped: str, turn: int, numbers: Iterable[int]) -> str:
    """Turn [n] markers in already escaped text into links to citation n of `turn`.

    Markers with no such citation stay text: a link to nothing would only confuse."""
    valid = set(numbers)

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in valid:
            return match.group(0)
        return f'<a class="rr-cite" href="#{citation_id(turn, n)}" title="来源 / source {n}">[{n}]</a>'

    return MARKER.sub(link, escaped)


def answer_text_html(text: str, turn: int, numbers: Iterable[int], short_answer: str | None = None) -> str:
    """Answer text as paragraphs with linked markers; the answer phrase paragraph in bold."""
    valid = set(numbers)
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    rendered = []
    for index, paragraph in enumerate(paragraphs):
        body = link_markers(_lines(paragraph), turn, valid)
        is_phrase = index == 0 and short_answer and MARKER.sub("", paragraph).strip() == short_answer.strip()
        rendered.append(f'<p class="rr-short"><strong>{body}</strong></p>' if is_phrase else f"<p>{body}</p>")
    return "".join(rendered)


def streaming_html(text: str, turn: int, numbers: Iterable[int]) -> str:
    """The answer while it streams in (a cursor shows more is coming)."""
    body = answer_text_html(text, turn, numbers) if text.strip() else ""
    return f'<div class="rr-answer rr-streaming">{body}<span class="rr-cursor">▍</span></div>'


def pending_html() -> str:
    return '<div class="rr-answer rr-pending"><p>正在查找报告… / Searching the report…</p></div>'


def answer_html(answer: Answer, turn: int, titles: Mapping[str, str] | None = None) -> str:
    """The final assistant message for `answer` (turn `turn` of the conversation)."""
    if not answer.found and answer.partial:
        # The report mentions the subject but not what was asked: the explanation, with its
        # citation clickable like an answer's, marked as partial evidence.
        body = answer_text_html(answer.answer, turn, [c.n for c in answer.citations], None)
        return (
            '<div class="rr-answer rr-not-found rr-partial">'
            f'<p class="rr-partial-badge">{escape(PARTIAL_BADGE)}</p>{body}{_notice(answer.notice)}</div>'
        )
    if not answer.found:
        hint = HINT_NOT_FOUND.get(answer.language, HINT_NOT_FOUND["en"])
        hint_html = f'<p class="rr-hint">{escape(hint)}</p>' if answer.related else ""
        return (
            '<div class="rr-answer rr-not-found">'
            f'<p class="rr-refusal">{escape(answer.answer)}</p>{hint_html}{_notice(answer.notice)}</div>'
        )
    numbers = [c.n for c in answer.citations]
    body = answer_text_html(answer.answer, turn, numbers, answer.short_answer)
    sources = " ".join(
        f'<a class="rr-source-link" href="#{citation_id(turn, c.n)}">'
        f"[{c.n}] {escape(_document_name(c.doc_id, c.source, titles))} · {_position(c.spans)}</a>"
        for c in answer.citations
    )
    footer = f'<p class="rr-answer-sources">来源 / Sources: {sources}</p>' if sources else ""
    return f'<div class="rr-answer rr-found">{body}{_notice(answer.notice)}{footer}</div>'


def error_html(message: str) -> str:
    """An error as a chat message: what went wrong and what to do, never a traceback."""
    return f'<div class="rr-answer rr-error"><p>⚠️ {_lines(message)}</p></div>'


def _notice(notice: str) -> str:
    return f'<p class="rr-notice">{escape(notice)}</p>' if notice else ""


# --- the sources panel --------------------------------------------------------------------
def sources_html(turns: Sequence[tuple[str, Answer | None]], titles: Mapping[str, str] | None = None) -> str:
    """The sources of every answered turn, newest first; only the newest is expanded.

    `turns[t]` is (question, answer) of turn t (answer None when it failed)."""
    sections = [
        _turn_sources(turn, question, answer, titles, open_=turn == len(turns) - 1)
        for turn, (question, answer) in reversed(list(enumerate(turns)))
        if answer is not None
    ]
    if not sections:
        return SOURCES_EMPTY
    return '<div class="rr-sources">' + "".join(sections) + "</div>"


def _turn_sources(
    turn: int, question: str, answer: Answer, titles: Mapping[str, str] | None, open_: bool
) -> str:
    summary = f'<summary><span class="rr-q">Q{turn + 1}</span> {escape(question)}</summary>'
    if answer.found:
        cards = "".join(citation_card(c, turn, titles) for c in answer.citations)
        state = ""
    elif answer.partial:
        cards = "".join(citation_card(c, turn, titles) for c in answer.citations)
        state = f'<p class="rr-not-found-banner">{escape(PARTIAL_BANNER)}</p>'
    else:
        cards = "".join(related_card(h, turn, titles) for h in answer.related)
        state = (
            '<p class="rr-not-found-banner">报告中没有找到答案 / Not in the report.'
            + (" 最接近的段落（相关，并非答案）/ Closest passages (related, not an answer):" if cards else "")
            + "</p>"
        )
    return f'<details class="rr-turn"{" open" if open_ else ""}>{summary}{state}{cards}</details>'


def citation_card(citation: Citation, turn: int, titles: Mapping[str, str] | None = None) -> str:
    """One cited passage: its number, document, position, and the cited sentence marked."""
    ranges = passage_ranges(citation.passage_spans, citation.spans)
    if not ranges and citation.sentence and citation.sentence in citation.text:
        start = citation.text.index(citation.sentence)  # spans missing: fall back to the text
        ranges = [(start, start + len(citation.sentence))]
    head = _card_head(
        f"[{citation.n}]", _document_name(citation.doc_id, citation.source, titles), citation.spans
    )
    return (
        f'<div class="rr-card" id="{citation_id(turn, citation.n)}">{head}'
        f'<p class="rr-passage">{_compact(highlight(citation.text, ranges))}</p></div>'
    )


def related_card(hit: Hit, turn: int, titles: Mapping[str, str] | None = None) -> str:
    """A passage close to an unanswered question: shown for context, nothing highlighted."""
    chunk = hit.chunk
    text = chunk.text
    if len(text) > PASSAGE_PREVIEW_CHARS:
        text = text[:PASSAGE_PREVIEW_CHARS] + "…"
    head = _card_head(
        f"相关 / related {hit.rank}", _document_name(chunk.doc_id, hit.source, titles), chunk.spans
    )
    return (
        f'<div class="rr-card rr-related" id="{related_id(turn, hit.rank)}">{head}'
        f'<p class="rr-passage">{_compact(escape(text))}</p></div>'
    )


def _card_head(label: str, document: str, spans: Sequence[Span]) -> str:
    return (
        f'<div class="rr-card-head"><span class="rr-n">{escape(label)}</span>'
        f'<span class="rr-doc">{escape(document)}</span>'
        f'<span class="rr-pos">字符 / chars {_position(spans)}</span></div>'
    )


def passage_ranges(passage_spans: Sequence[Span], sentence_spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Where a sentence lies in its passage's text, as offsets into that text.

    Both come as source spans; the passage text is the source at its spans, concatenated, so a
    source offset maps to the passage by the lengths of the spans before it. A sentence rejoined
    across a caption has two spans and can give two ranges; touching ranges are merged."""
    ranges: list[tuple[int, int]] = []
    offset = 0
    for p_start, p_end in passage_spans:
        for s_start, s_end in sentence_spans:
            start, end = max(p_start, s_start), min(p_end, s_end)
            if start < end:
                ranges.append((offset + start - p_start, offset + end - p_start))
        offset += p_end - p_start
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, ranges: Sequence[tuple[int, int]]) -> str:
    """`text` escaped, with each (start, end) range wrapped in <mark>."""
    parts = []
    cursor = 0
    for start, end in ranges:
        start, end = max(start, cursor), min(end, len(text))
        if start >= end:
            continue
        parts.append(escape(text[cursor:start]))
        parts.append(f'<mark class="rr-mark">{escape(text[start:end])}</mark>')
        cursor = end
    parts.append(escape(text[cursor:]))
    return "".join(parts)


# --- page chrome ----------------------------------------------------------------------------
def documents_html(documents: Sequence[Mapping[str, Any]]) -> str:
    """The indexed documents: title (or file name), file name, number of passages."""
    if not documents:
        return '<p class="rr-docs-empty">没有文档 / No documents indexed.</p>'
    items = "".join(
        f'<li><span class="rr-doc-title">{escape(str(doc.get("title") or doc.get("source") or doc["doc_id"]))}</span>'
        f'<span class="rr-doc-meta">{escape(str(doc.get("source", "")))} · {int(doc.get("chunks", 0))} 段 / passages</span></li>'
        for doc in documents
    )
    return f'<ul class="rr-docs">{items}</ul>'


def status_html(ready: bool, reason: str) -> str:
    if ready:
        return '<span class="rr-status rr-ready">● 就绪 / Ready</span>'
    return f'<span class="rr-status rr-loading">● 准备中 / Starting: {escape(reason)}</span>'


def header_html(status: str, eval_report_url: str | None) -> str:
    """Title, what the page does, readiness, and links (API docs, latest eval report)."""
    links = ['<a href="/docs" target="_blank" rel="noopener">API 文档 / API docs</a>']
    if eval_report_url:
        links.append(
            f'<a href="{escape(eval_report_url)}" target="_blank" rel="noopener">评测报告 / Eval report</a>'
        )
    return (
        '<div class="rr-header"><h1>报告问答 / Report Q&amp;A</h1>'
        "<p>用中文或英文提问，回答只来自报告，并标注出处。"
        "Ask in Chinese or English: answers come only from the report, with citations.</p>"
        f'<p class="rr-header-meta">{status} · {" · ".join(links)}</p></div>'
    )


# --- helpers ------------------------------------------------------------------------------
def _lines(text: str) -> str:
    return "<br>".join(escape(line) for line in text.strip().split("\n"))


def _compact(html: str) -> str:
    """Blank lines between the source's paragraphs shown as one line break (display only)."""
    return re.sub(r"\n\s*\n", "\n", html)


def _position(spans: Sequence[Span]) -> str:
    if not spans:
        return "?"
    return f"{spans[0][0]}–{spans[-1][1]}"


def _document_name(doc_id: str, source: str, titles: Mapping[str, str] | None) -> str:
    title = (titles or {}).get(doc_id)
    return f"{title} ({source})" if title and title != source else source
