"""Bar charts as inline SVG, drawn on the server: the dashboard needs no JavaScript and no
internet access. Framework-free."""

from __future__ import annotations

from decimal import Decimal
from html import escape


def bar_chart(
    title: str,
    bars: list[tuple[str, Decimal]],
    *,
    unit: str = "",
    width: int = 760,
    bar_height: int = 22,
    chart_id: str = "",
) -> str:
    """Horizontal bars, one per (label, value), labelled with their values; negative values
    draw to the left of the axis."""
    label_width, value_width, gap = 280, 120, 6
    plot = width - label_width - value_width
    values = [float(v) for _, v in bars]
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
    for n, (label, value) in enumerate(bars):
        y = 28 + n * (bar_height + gap)
        length = plot * abs(float(value)) / span
        x = zero_x - length if value < 0 else zero_x
        colour = "#b5442c" if value < 0 else "#2c6fb5"
        text = f"{value:,}" + (f" {unit}" if unit else "")
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
