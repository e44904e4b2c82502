"""The eval result as one self-contained HTML page: metrics, hit@k curve, latency, every question.

Everything is inline (CSS, a little JS, SVG charts): the file opens offline, can be mailed or
attached to CI, and loads nothing from the network. Every piece of text from the result goes
through `html.escape`: questions and answers are data, never markup.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from eval.html_assets import CSS, SCRIPT
from eval.html_charts import MAX_K, hit_chart, language_badge, latency_chart, ordered_languages
from eval.metrics import COLUMNS


def render(result: dict[str, Any], generated: datetime | None = None) -> str:
    """The HTML page for one `rag eval` result (the dict the runner writes with `--out`).

    generated: the time printed in the header; default `result["date"]` if present, else now.
    """
    metrics: dict[str, dict[str, dict[str, Any]]] = result.get("metrics") or {}
    items: list[dict[str, Any]] = result.get("items") or []
    # The runner keeps the items of its last mode (hybrid when ablating).
    items_mode = list(metrics)[-1] if metrics else ""
    dataset = str(result.get("dataset", ""))
    when = result.get("date") or (generated or datetime.now()).strftime("%Y-%m-%d %H:%M")
    body = "\n".join(
        [
            _header(dataset, str(when), result.get("settings") or {}, metrics, items_mode, items),
            _section("Metrics", _metrics_table(metrics), note=_metrics_note()),
            _section(
                "Retrieval: hit@k",
                hit_chart(items),
                note=f"Share of answerable questions whose gold passage ranks within the top k ({items_mode} run).",
            ),
            _section("Latency", latency_chart(items, metrics.get(items_mode, {}))),
            _section(f"Questions ({items_mode} run)", _questions(items)),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(f'Eval report: {dataset}')}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


# --- header and metrics ------------------------------------------------------------------------


def _header(
    dataset: str,
    when: str,
    settings: dict[str, Any],
    metrics: dict[str, dict[str, dict[str, Any]]],
    mode: str,
    items: Sequence[dict[str, Any]],
) -> str:
    overall = metrics.get(mode, {}).get("all", {})
    passed = sum(1 for item in items if item.get("passed"))
    cards = [
        ("questions", str(len(items)) if items else _fmt(overall.get("questions"), "{:.0f}")),
        ("passed", f"{passed} / {len(items)}" if items else "–"),
        ("accuracy", _fmt(overall.get("accuracy"), "rate")),
        ("hit@5", _fmt(overall.get("hit@5"), "rate")),
        ("latency p50", _fmt(overall.get("latency_p50_ms"), "{:.0f}") + " ms"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="card-value">{escape(value)}</div>'
        f'<div class="card-label">{escape(label)}</div></div>'
        for label, value in cards
    )
    setting_html = "".join(
        f'<span class="setting"><b>{escape(key)}</b> {escape(value)}</span>'
        for key, value in _flatten(settings)
    )
    modes = ", ".join(metrics) or "–"
    return (
        f'<header><h1>Eval report: <span class="dataset">{escape(dataset)}</span></h1>'
        f'<p class="meta">{escape(when)} · modes: {escape(modes)}</p>'
        f'<div class="settings">{setting_html}</div>'
        f'<div class="cards">{card_html}</div></header>'
    )


def _flatten(settings: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs = []
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs += _flatten(value, prefix=f"{name}.")
        else:
            pairs.append((name, str(value)))
    return pairs


def _metrics_note() -> str:
    return (
        "Retrieval and answer metrics are over answerable questions; refusal precision and recall "
        "over all of them. – means not measured (e.g. nothing refused)."
    )


def _metrics_table(metrics: dict[str, dict[str, dict[str, Any]]]) -> str:
    if not metrics:
        return '<p class="empty">No metrics.</p>'
    head = "".join(f"<th>{escape(label)}</th>" for _, label, _ in COLUMNS)
    rows = []
    for mode, by_language in metrics.items():
        for language, values in ordered_languages(by_language):
            cells = "".join(_metric_cell(values.get(key), fmt) for key, _, fmt in COLUMNS)
            rows.append(
                f'<tr class="lang-{escape(language)}"><th class="row-head">{escape(mode)}</th>'
                f"<td>{language_badge(language)}</td>"
                f'<td class="num">{escape(_fmt(values.get("questions"), "{:.0f}"))}</td>{cells}</tr>'
            )
    return (
        '<div class="scroll"><table class="metrics"><thead><tr><th>mode</th><th>language</th><th>n</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _metric_cell(value: Any, fmt: str) -> str:
    text = escape(_fmt(value, fmt))
    if fmt == "rate" and _is_number(value):
        width = max(0.0, min(1.0, float(value))) * 100
        return f'<td class="num rate"><span class="bar" style="width:{width:.0f}%"></span><span>{text}</span></td>'
    return f'<td class="num">{text}</td>'


def _fmt(value: Any, fmt: str) -> str:
    if not _is_number(value):
        return "–"
    return f"{float(value):.3f}" if fmt == "rate" else fmt.format(float(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def _section(title: str, content: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{note_html}{content}</section>"


# --- questions ----------------------------------------------------------------------------------


def _questions(items: Sequence[dict[str, Any]]) -> str:
    if not items:
        return '<p class="empty">No questions.</p>'
    languages = _distinct(str(item.get("language", "")) for item in items)
    types = _distinct(str(item.get("type") or "") for item in items)
    controls = (
        '<div class="filters" id="filters">'
        + _select("f-lang", "language", [("", "all languages")] + [(v, v) for v in languages])
        + _select("f-result", "result", [("", "passed and failed"), ("pass", "passed"), ("fail", "failed")])
        + (
            _select("f-type", "type", [("", "all types")] + [(v, v) for v in types if v])
            if any(types)
            else ""
        )
        + '<input type="search" id="f-text" placeholder="search questions, answers, citations…" '
        'aria-label="search">' + f'<span class="count" id="f-count">{len(items)} of {len(items)}</span></div>'
    )
    cards = "".join(_question(item) for item in items)
    return f'{controls}<div id="questions">{cards}</div>'


def _distinct(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


def _select(element_id: str, label: str, options: list[tuple[str, str]]) -> str:
    body = "".join(f'<option value="{escape(value)}">{escape(text)}</option>' for value, text in options)
    return f'<select id="{element_id}" aria-label="{escape(label)}">{body}</select>'


def _question(item: dict[str, Any]) -> str:
    passed = bool(item.get("passed"))
    language = str(item.get("language", ""))
    kind = str(item.get("type") or "")
    answerable = item.get("answerable", True)
    rank = item.get("rank")
    tags = [
        f'<span class="verdict {"pass" if passed else "fail"}">{"PASS" if passed else "FAIL"}</span>',
        f'<span class="qid">{escape(str(item.get("id", "")))}</span>',
        language_badge(language),
    ]
    if kind:
        tags.append(f'<span class="tag">{escape(kind)}</span>')
    if not answerable:
        tags.append('<span class="tag unanswerable">unanswerable</span>')
    else:
        tags.append(
            f'<span class="tag">{"rank " + str(rank) if rank else "gold not in top " + str(MAX_K)}</span>'
        )
    if item.get("f1") is not None and answerable:
        tags.append(f'<span class="tag">F1 {float(item["f1"]):.2f}</span>')
    total = (item.get("timings_ms") or {}).get("total")
    if total is not None:
        tags.append(f'<span class="tag">{float(total):.0f} ms</span>')
    expected = item.get("expected") or []
    expected_html = (
        " ".join(f'<span class="expected">{escape(str(answer))}</span>' for answer in expected)
        if answerable
        else '<span class="muted">a refusal</span>'
    )
    short = item.get("short_answer")
    answer_class = "answer" if item.get("found", True) else "answer refused"
    rows = [
        _field("expected", expected_html),
        _field("short answer", escape(str(short)) if short else '<span class="muted">none</span>'),
        _field("answer", f'<div class="{answer_class}">{escape(str(item.get("answer", "")))}</div>'),
    ]
    citations = item.get("citations") or []
    if citations:
        rows.append(_field("citations", "".join(_citation(c) for c in citations)))
    return (
        f'<article class="q {"pass" if passed else "fail"}" data-lang="{escape(language)}" '
        f'data-result="{"pass" if passed else "fail"}" data-type="{escape(kind)}">'
        f'<div class="q-tags">{"".join(tags)}</div>'
        f'<h3 class="q-text">{escape(str(item.get("question", "")))}</h3>'
        f"<dl>{''.join(rows)}</dl></article>"
    )


def _field(label: str, value_html: str) -> str:
    return f"<dt>{escape(label)}</dt><dd>{value_html}</dd>"


def _citation(citation: dict[str, Any]) -> str:
    spans = ", ".join(f"{a}–{b}" for a, b in citation.get("spans") or [])
    where = f"{citation.get('source', '')} {spans}".strip()
    passage = citation.get("text") or ""
    details = (
        f'<details><summary>passage</summary><div class="passage">{escape(str(passage))}</div></details>'
        if passage
        else ""
    )
    return (
        f'<div class="citation"><span class="cite-n">[{escape(str(citation.get("n", "")))}]</span> '
        f'{escape(str(citation.get("sentence", "")))} <span class="muted">{escape(where)}</span>{details}</div>'
    )
