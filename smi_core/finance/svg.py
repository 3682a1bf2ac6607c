"""Bar charts as inline SVG, drawn on the server: the dashboard needs no JavaScript and no
internet access. Framework-free."""

from __future__ import annotations

import math
from decimal import Decimal
from html import escape


def bar_chart(
    title: str,
    bars: list[tuple[str, Decimal]] | list[tuple[str, Decimal, str]],
    *,
    unit: str = "",
    width: int = 760,
    bar_height: int = 22,
    chart_id: str = "",
    fmt=None,
) -> str:
    """Horizontal bars, one per (label, value), labelled with their values (``fmt`` formats
    them) and ``unit``, or a bar's own unit when it is given as (label, value, unit);
    negative values draw to the left of the axis."""
    label_width, value_width, gap = 280, 120, 6
    plot = width - label_width - value_width
    values = [float(bar[1]) for bar in bars]
    high = max([0.0, *values]) or 1.0
    low = min([0.0, *values])
    span = (high - low) or 1.0
    zero_x = label_width + plot * (-low / span)
    height = 28 + len(bars) * (bar_height + gap) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"{f" id={chr(34)}{escape(chart_id)}{chr(34)}" if chart_id else ""}>',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for n, (label, value, *own_unit) in enumerate(bars):
        bar_unit = own_unit[0] if own_unit else unit
        y = 28 + n * (bar_height + gap)
        length = plot * abs(float(value)) / span
        x = zero_x - length if value < 0 else zero_x
        colour = "#b5442c" if value < 0 else "#2c6fb5"
        text = (fmt(value) if fmt else f"{value:,}") + (f" {bar_unit}" if bar_unit else "")
        parts += [
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" font-size="12" '
            f'text-anchor="end">{escape(label[:42])}</text>',
            f'<rect x="{x:.1f}" y="{y}" width="{max(length, 1):.1f}" height="{bar_height}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>',
            f'<text x="{width - value_width + 6}" y="{y + bar_height * 0.7:.1f}" '
            f'font-size="12">{escape(text)}</text>',
        ]
    parts.append(
        f'<line x1="{zero_x:.1f}" y1="24" x2="{zero_x:.1f}" y2="{height - 2}" stroke="#555"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _axis_text(value: float) -> str:
    """A compact axis label: 41,465 -> 41.5k, 1,250,000 -> 1.25M."""
    size = abs(value)
    if size >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    if size >= 10_000:
        return f"{value / 1_000:,.1f}k"
    if size >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") or "0"


def _ticks(low: float, high: float, count: int = 4) -> list[float]:
    span = (high - low) or abs(high) or 1.0
    raw = span / count
    step = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= step * factor:
            step *= factor
            break
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 0.5 and len(ticks) < 12:
        ticks.append(value)
        value += step
    return ticks


SERIES_COLOURS = ("#2c6fb5", "#d08a1d", "#3c8d4f", "#8a4fb5")


def time_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[Decimal]],
    *,
    unit: str = "",
    kind: str = "line",
    fmt=None,
    width: int = 900,
    height: int = 260,
    chart_id: str = "",
) -> str:
    """Values over time: one line (``kind="line"``) or column group (``"column"``) per
    series, the periods along the bottom, a value axis with round ticks, and each point's
    exact value in its tooltip. ``fmt`` formats a value for the tooltip (default 2 decimals
    with thousands separators)."""
    fmt = fmt or (lambda v: f"{v:,.2f}")
    left, right, top, bottom = 64, 12, 30 + 18 * (len(series) > 1), 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for vs in series.values() for v in vs]
    high = max([0.0, *values])
    low = min([0.0, *values])
    if kind == "line" and values and min(values) > 0:
        # a trend's line need not start at zero: the axis spans the data, with a margin
        spread = (max(values) - min(values)) or abs(max(values)) * 0.1 or 1.0
        low = max(0.0, min(values) - spread * 0.5)
        high = max(values) + spread * 0.2
    ticks = _ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])
    span = (high - low) or 1.0
    count = max(len(labels), 1)

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (v - low) / span)

    ident = f' id="{escape(chart_id)}"' if chart_id else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" style="max-width:100%;height:auto"{ident} '
        f'data-kind="{kind}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    if len(series) > 1:
        x = left
        for n, name in enumerate(series):
            colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
            parts.append(
                f'<rect x="{x}" y="24" width="12" height="12" fill="{colour}"/>'
                f'<text x="{x + 16}" y="34" font-size="12">{escape(name)}</text>'
            )
            x += 24 + 7 * len(name)
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#e3e6ea"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#555">{escape(_axis_text(tick))}</text>'
        )
    slot = plot_w / count
    every = max(1, math.ceil(count / 12)) if count else 1
    for n, label in enumerate(labels):
        if n % every == 0:
            x = left + slot * (n + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" font-size="11" '
                f'text-anchor="middle" fill="#555">{escape(label)}</text>'
            )
    zero = y_of(max(low, 0.0))
    for s, (name, vs) in enumerate(series.items()):
        colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
        if kind == "column":
            group = slot * 0.7
            bar = group / max(len(series), 1)
            for n, v in enumerate(vs):
                value = float(v)
                x = left + slot * n + (slot - group) / 2 + bar * s
                y = min(y_of(value), zero)
                h = max(abs(y_of(value) - zero), 1)
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                    f'height="{h:.1f}" fill="{colour}"><title>{escape(labels[n])}: '
                    f"{escape(name)} {escape(fmt(v))}</title></rect>"
                )
        else:
            points = [(left + slot * (n + 0.5), y_of(float(v))) for n, v in enumerate(vs)]
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                + " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                + '"/>'
            )
            for n, (x, y) in enumerate(points):
                parts.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                    f"<title>{escape(labels[n])}: {escape(name)} {escape(fmt(vs[n]))}"
                    "</title></circle>"
                )
    parts.append(
        f'<line x1="{left}" y1="{zero:.1f}" x2="{width - right}" y2="{zero:.1f}" stroke="#555"/>'
    )
    parts.append("</svg>")
    return "".join(parts)
