"""The eval report's charts and their tables, as inline SVG: the hit@k curve, the latency
histogram, the per-stage latency table; and the colours and badges of languages they share with
the page (`eval.html_report`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from eval.metrics import hit_at_k, percentile

MAX_K = 10  # the runner retrieves 10 passages per question, so ranks stop there

LANGUAGE_COLORS = {"all": "#495057", "zh": "#d9480f", "en": "#1c7ed6"}
OTHER_COLORS = ("#2b8a3e", "#862e9c", "#e67700", "#0b7285")


def ordered_languages(by_language: dict[str, Any]) -> list[tuple[str, Any]]:
    """'all' first, then zh, en, then any other language in the order given."""
    order = {"all": 0, "zh": 1, "en": 2}
    return sorted(by_language.items(), key=lambda pair: order.get(pair[0], 3))


def language_badge(language: str) -> str:
    return f'<span class="lang" style="background:{language_color(language)}">{escape(language)}</span>'


def language_color(language: str) -> str:
    if language in LANGUAGE_COLORS:
        return LANGUAGE_COLORS[language]
    return OTHER_COLORS[sum(map(ord, language)) % len(OTHER_COLORS)]


def hit_curve(items: Sequence[dict[str, Any]], max_k: int = MAX_K) -> dict[str, list[float]]:
    """hit@k for k = 1..max_k per language ('all' first), over the answerable items' ranks."""
    groups: dict[str, list[int | None]] = {"all": []}
    for item in items:
        if item.get("answerable", True):
            groups["all"].append(item.get("rank"))
            groups.setdefault(str(item.get("language", "")), []).append(item.get("rank"))
    return {
        language: [hit_at_k(ranks, k) for k in range(1, max_k + 1)]
        for language, ranks in ordered_languages(groups)
        if ranks
    }


def hit_chart(items: Sequence[dict[str, Any]]) -> str:
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
        color = language_color(language)
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
        f"<tr><td>{language_badge(language)}</td>"
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


def latency_chart(items: Sequence[dict[str, Any]], by_language: dict[str, dict[str, Any]]) -> str:
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
        f"{stage_table(items, by_language)}</div>"
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


def stage_table(items: Sequence[dict[str, Any]], by_language: dict[str, dict[str, Any]]) -> str:
    """p50/p95 per pipeline stage, in pipeline order (as the items list them), total last."""
    stages: dict[str, None] = {}
    for item in items:
        stages.update(dict.fromkeys(item.get("timings_ms") or {}))
    ordered = [s for s in stages if s != "total"] + (["total"] if "total" in stages else [])
    languages = [language for language, _ in ordered_languages(by_language)] or ["all"]
    head = "".join(f'<th colspan="2">{language_badge(language)}</th>' for language in languages)
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


