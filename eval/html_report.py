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

from eval.metrics import COLUMNS, hit_at_k, percentile

MAX_K = 10  # the runner retrieves 10 passages per question, so ranks stop there

LANGUAGE_COLORS = {"all": "#495057", "zh": "#d9480f", "en": "#1c7ed6"}
OTHER_COLORS = ("#2b8a3e", "#862e9c", "#e67700", "#0b7285")


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
                _hit_curve(items),
                note=f"Share of answerable questions whose gold passage ranks within the top k ({items_mode} run).",
            ),
            _section("Latency", _latency(items, metrics.get(items_mode, {}))),
            _section(f"Questions ({items_mode} run)", _questions(items)),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(f'Eval report: {dataset}')}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
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
        for language, values in _ordered_languages(by_language):
            cells = "".join(_metric_cell(values.get(key), fmt) for key, _, fmt in COLUMNS)
            rows.append(
                f'<tr class="lang-{escape(language)}"><th class="row-head">{escape(mode)}</th>'
                f"<td>{_language_badge(language)}</td>"
                f'<td class="num">{escape(_fmt(values.get("questions"), "{:.0f}"))}</td>{cells}</tr>'
            )
    return (
        '<div class="scroll"><table class="metrics"><thead><tr><th>mode</th><th>language</th><th>n</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _ordered_languages(by_language: dict[str, Any]) -> list[tuple[str, Any]]:
    """'all' first, then zh, en, then any other language in the order given."""
    order = {"all": 0, "zh": 1, "en": 2}
    return sorted(by_language.items(), key=lambda pair: order.get(pair[0], 3))


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


def _language_badge(language: str) -> str:
    return f'<span class="lang" style="background:{_color(language)}">{escape(language)}</span>'


def _color(language: str) -> str:
    if language in LANGUAGE_COLORS:
        return LANGUAGE_COLORS[language]
    return OTHER_COLORS[sum(map(ord, language)) % len(OTHER_COLORS)]


def _section(title: str, content: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{note_html}{content}</section>"


# --- charts -------------------------------------------------------------------------------------


def hit_curve(items: Sequence[dict[str, Any]], max_k: int = MAX_K) -> dict[str, list[float]]:
    """hit@k for k = 1..max_k per language ('all' first), over the answerable items' ranks."""
    groups: dict[str, list[int | None]] = {"all": []}
    for item in items:
        if item.get("answerable", True):
            groups["all"].append(item.get("rank"))
            groups.setdefault(str(item.get("language", "")), []).append(item.get("rank"))
    return {
        language: [hit_at_k(ranks, k) for k in range(1, max_k + 1)]
        for language, ranks in _ordered_languages(groups)
        if ranks
    }


def _hit_curve(items: Sequence[dict[str, Any]]) -> str:
    curves = hit_curve(items)
    if not curves:
        return '<p class="empty">No answerable questions.</p>'
    width, height = 640, 320
    left, right, top, bottom = 48, 110, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(k: int) -> float:
        return left + (k - 1) * plot_w / (MAX_K - 1)

    def y(value: float) -> float:
        return top + (1 - value) * plot_h

    parts = [_svg_open(width, height, "hit@k per language")]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:.2f}</text>'
        )
    for k in range(1, MAX_K + 1):
        parts.append(
            f'<text class="tick" x="{x(k):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{k}</text>'
        )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">k</text>'
    )
    for row, (language, values) in enumerate(curves.items()):
        color = _color(language)
        points = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in enumerate(values, start=1))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{points}"/>')
        for k, value in enumerate(values, start=1):
            parts.append(
                f'<circle cx="{x(k):.1f}" cy="{y(value):.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(language)} hit@{k} = {value:.3f}</title></circle>"
            )
        legend_y = top + 12 + row * 22
        parts.append(
            f'<line x1="{left + plot_w + 16}" x2="{left + plot_w + 36}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
            f'stroke="{color}" stroke-width="3"/>'
            f'<text class="legend" x="{left + plot_w + 42}" y="{legend_y}">{escape(language)} {values[-1]:.2f}</text>'
        )
    parts.append("</svg>")
    table = _hit_table(curves)
    return f'<div class="chart-row"><div class="chart">{"".join(parts)}</div>{table}</div>'


def _hit_table(curves: dict[str, list[float]]) -> str:
    shown = (1, 3, 5, 10)
    head = "".join(f"<th>@{k}</th>" for k in shown)
    rows = "".join(
        f"<tr><td>{_language_badge(language)}</td>"
        + "".join(f'<td class="num">{values[k - 1]:.3f}</td>' for k in shown)
        + "</tr>"
        for language, values in curves.items()
    )
    return f'<table class="small"><thead><tr><th></th>{head}</tr></thead><tbody>{rows}</tbody></table>'


def latency_bins(totals: Sequence[float], bins: int = 24) -> tuple[list[tuple[float, float, int]], int]:
    """Histogram of latencies: ([(low, high, count)], count of values above the last bin).

    The range starts at the fastest question and stops at 1.5 times the p95, so one slow outlier
    (the first, cold question) does not squash every other bar into one; what lies beyond is
    counted apart, as an overflow bar.
    """
    if not totals:
        return [], 0
    fastest = min(totals)
    upper = min(max(totals), 1.5 * percentile(totals, 95))
    step = _nice_step(max(upper - fastest, 1e-3) / bins)
    low = math.floor(fastest / step) * step
    count = max(1, math.ceil((upper - low) / step))
    if low + count * step <= upper:  # `upper` itself belongs in the last bin
        count += 1
    counts = [0] * count
    overflow = 0
    for value in totals:
        index = int((value - low) // step)
        if index < count:
            counts[index] += 1
        else:
            overflow += 1
    edges = [round(low + i * step, 9) for i in range(count + 1)]
    return [(edges[i], edges[i + 1], n) for i, n in enumerate(counts)], overflow


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `raw`."""
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _latency(items: Sequence[dict[str, Any]], by_language: dict[str, dict[str, Any]]) -> str:
    totals = [
        float(item["timings_ms"]["total"]) for item in items if "total" in (item.get("timings_ms") or {})
    ]
    if not totals:
        return '<p class="empty">No timings.</p>'
    bins, overflow = latency_bins(totals)
    low, limit = bins[0][0], bins[-1][1]
    width, height = 640, 260
    left, right, top, bottom = 48, 36, 34, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    # The overflow bar sits one empty slot to the right, so it does not read as part of the scale.
    slots = len(bins) + (2 if overflow else 0)
    slot_w = plot_w / slots
    tallest = max([n for _, _, n in bins] + [overflow]) or 1

    def bar_y(n: int) -> float:
        return top + plot_h * (1 - n / tallest)

    def x_of(ms: float) -> float:
        return left + (ms - low) / (limit - low) * slot_w * len(bins)

    parts = [_svg_open(width, height, "latency histogram")]
    for tick in _int_ticks(tallest):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{bar_y(tick):.1f}" y2="{bar_y(tick):.1f}"/>'
            f'<text class="tick" x="{left - 8}" y="{bar_y(tick) + 4:.1f}" text-anchor="end">{tick}</text>'
        )
    for i, (start, end, n) in enumerate(bins):
        parts.append(
            _bar(left + i * slot_w, slot_w, bar_y(n), top + plot_h, "bar", f"{start:g}–{end:g} ms: {n}")
        )
    label_every = max(1, math.ceil(len(bins) / 8))
    edges = [start for start, _, _ in bins] + [limit]
    for i in range(0, len(bins) + 1, label_every):
        parts.append(
            f'<text class="tick" x="{left + i * slot_w:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{edges[i]:g}</text>"
        )
    if overflow:
        x_over = left + (len(bins) + 1) * slot_w
        parts.append(
            _bar(
                x_over,
                slot_w,
                bar_y(overflow),
                top + plot_h,
                "bar overflow",
                f"over {limit:g} ms: {overflow} (slowest {max(totals):.0f} ms)",
            )
        )
        parts.append(
            f'<text class="tick" x="{x_over + slot_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"max {max(totals):.0f}</text>"
        )
    for row, (name, q) in enumerate((("p50", 50), ("p95", 95))):
        value = percentile(totals, q)
        if value <= limit:
            px = x_of(value)
            label_y = 12 + row * 14  # p50 and p95 labels on two lines above the bars: they are often close
            parts.append(
                f'<line class="marker" x1="{px:.1f}" x2="{px:.1f}" y1="{label_y - 8}" y2="{top + plot_h}"/>'
                f'<text class="marker-label" x="{px + 4:.1f}" y="{label_y}">{name} {value:.0f} ms</text>'
            )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">ms per question</text>'
    )
    parts.append("</svg>")
    return (
        f'<div class="chart-row"><div class="chart">{"".join(parts)}</div>'
        f"{_stage_table(items, by_language)}</div>"
    )


def _bar(x: float, width: float, y: float, base: float, css: str, title: str) -> str:
    return (
        f'<rect class="{css}" x="{x + 1:.1f}" y="{y:.1f}" width="{max(width - 2, 1):.1f}" '
        f'height="{max(base - y, 0):.1f}"><title>{escape(title)}</title></rect>'
    )


def _int_ticks(tallest: int) -> list[int]:
    step = max(1, math.ceil(tallest / 4))
    return list(range(0, tallest + 1, step))


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(label)}">'
    )


def _stage_table(items: Sequence[dict[str, Any]], by_language: dict[str, dict[str, Any]]) -> str:
    """p50/p95 per pipeline stage, in pipeline order (as the items list them), total last."""
    stages: dict[str, None] = {}
    for item in items:
        stages.update(dict.fromkeys(item.get("timings_ms") or {}))
    ordered = [s for s in stages if s != "total"] + (["total"] if "total" in stages else [])
    languages = [language for language, _ in _ordered_languages(by_language)] or ["all"]
    head = "".join(f'<th colspan="2">{_language_badge(language)}</th>' for language in languages)
    sub = "<th>p50</th><th>p95</th>" * len(languages)
    rows = []
    for stage in ordered:
        cells = []
        for language in languages:
            values = _stage_values(items, stage, language)
            cells += [
                _ms(percentile(values, 50) if values else None),
                _ms(percentile(values, 95) if values else None),
            ]
        css = ' class="total"' if stage == "total" else ""
        rows.append(f'<tr{css}><th class="row-head">{escape(stage)}</th>{"".join(cells)}</tr>')
    return (
        '<table class="small stages"><thead>'
        f'<tr><th rowspan="2">stage (ms)</th>{head}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _stage_values(items: Sequence[dict[str, Any]], stage: str, language: str) -> list[float]:
    return [
        float(item["timings_ms"][stage])
        for item in items
        if stage in (item.get("timings_ms") or {}) and language in ("all", item.get("language"))
    ]


def _ms(value: float | None) -> str:
    text = "–" if value is None else (f"{value:.2f}" if value < 10 else f"{value:.1f}")
    return f'<td class="num">{text}</td>'


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
        _language_badge(language),
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


# --- inline CSS and JS -----------------------------------------------------------------------


_CSS = """
:root { --fg: #212529; --muted: #6c757d; --line: #dee2e6; --bg: #f8f9fa; --pass: #2b8a3e; --fail: #c92a2a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px; }
header, section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
  margin-bottom: 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h1 .dataset { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
h2 { font-size: 17px; margin: 0 0 8px; }
.meta, .note, .muted { color: var(--muted); }
.meta { margin: 0 0 8px; }
.note { margin: -4px 0 12px; font-size: 13px; }
.settings { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
.setting { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 1px 8px;
  font-size: 12px; }
.setting b { font-weight: 600; color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 16px; min-width: 120px; }
.card-value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card-label { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; }
thead th { font-size: 12px; color: var(--muted); font-weight: 600; vertical-align: bottom; }
table.metrics thead th { max-width: 78px; }
td.num { text-align: right; }
td.rate { position: relative; min-width: 64px; }
td.rate .bar { position: absolute; left: 0; top: 3px; bottom: 3px; background: #d0ebff; border-radius: 2px;
  z-index: 0; }
td.rate span:last-child { position: relative; z-index: 1; }
th.row-head { font-weight: 600; }
tr.lang-all td, tr.lang-all th { border-top: 2px solid var(--line); }
.lang { display: inline-block; color: #fff; border-radius: 3px; padding: 0 6px; font-size: 12px;
  font-weight: 600; }
.chart-row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.chart { flex: 1 1 480px; min-width: 0; max-width: 640px; }
.chart svg { width: 100%; height: auto; }
svg text { font-size: 12px; fill: var(--muted); font-family: inherit; }
svg .legend { fill: var(--fg); }
svg .grid { stroke: #e9ecef; }
svg .bar { fill: #74c0fc; }
svg .bar:hover { fill: #1c7ed6; }
svg .overflow { fill: #ffa94d; }
svg .marker { stroke: var(--fg); stroke-dasharray: 4 3; }
svg .marker-label { fill: var(--fg); }
table.small td, table.small th { padding: 3px 8px; }
table.stages tr.total th, table.stages tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px;
  position: sticky; top: 0; background: #fff; padding: 8px 0; z-index: 2; }
.filters select, .filters input { font: inherit; padding: 4px 8px; border: 1px solid #ced4da;
  border-radius: 4px; background: #fff; }
.filters input { flex: 1; min-width: 220px; }
.count { color: var(--muted); }
.q { border: 1px solid var(--line); border-left: 4px solid var(--pass); border-radius: 6px;
  padding: 10px 14px; margin-bottom: 10px; }
.q.fail { border-left-color: var(--fail); background: #fff8f8; }
.q-tags { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.q-text { font-size: 15px; margin: 6px 0; font-weight: 600; }
.verdict { font-size: 11px; font-weight: 700; border-radius: 3px; padding: 0 6px; color: #fff; }
.verdict.pass { background: var(--pass); }
.verdict.fail { background: var(--fail); }
.qid { font-family: ui-monospace, Menlo, monospace; font-size: 12px; }
.tag { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 6px; }
.tag.unanswerable { color: #862e9c; border-color: #e5dbff; }
dl { display: grid; grid-template-columns: 110px 1fr; gap: 4px 12px; margin: 0; }
dt { color: var(--muted); font-size: 12px; padding-top: 2px; }
dd { margin: 0; min-width: 0; }
.answer { white-space: pre-wrap; }
.answer.refused { color: var(--muted); font-style: italic; }
.expected { display: inline-block; background: #ebfbee; border: 1px solid #b2f2bb; border-radius: 3px;
  padding: 0 6px; margin: 0 4px 2px 0; }
.citation { margin-bottom: 4px; }
.cite-n { font-weight: 600; color: #1c7ed6; }
details { display: inline; }
summary { display: inline; cursor: pointer; color: #1c7ed6; font-size: 12px; margin-left: 6px; }
.passage { white-space: pre-wrap; background: var(--bg); border-radius: 4px; padding: 6px 10px; margin-top: 4px;
  font-size: 13px; }
.empty { color: var(--muted); }
"""

_SCRIPT = """
(function () {
  var lang = document.getElementById('f-lang'), result = document.getElementById('f-result'),
      type = document.getElementById('f-type'), text = document.getElementById('f-text'),
      count = document.getElementById('f-count');
  if (!lang) return;
  var cards = Array.prototype.slice.call(document.querySelectorAll('#questions .q'));
  function apply() {
    var q = text.value.trim().toLowerCase(), shown = 0;
    cards.forEach(function (card) {
      var ok = (!lang.value || card.dataset.lang === lang.value) &&
               (!result.value || card.dataset.result === result.value) &&
               (!type || !type.value || card.dataset.type === type.value) &&
               (!q || card.textContent.toLowerCase().indexOf(q) >= 0);
      card.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + cards.length;
  }
  [lang, result, type].forEach(function (el) { if (el) el.addEventListener('change', apply); });
  text.addEventListener('input', apply);
})();
"""
