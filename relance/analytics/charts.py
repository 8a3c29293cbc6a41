"""Charts as inline SVG, drawn on the server (no JavaScript, nothing fetched): bars and a line.

Every bar can be a link (``href``) to the customers or documents behind it; every mark has a ``<title>`` (the
exact figure, shown as a tooltip and read by screen readers). Values are Decimals; only the geometry is float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 8, 34, 18


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    title: str = ""
    href: str = ""
    tone: str = ""  # CSS modifier: "danger", "warn", "ok", "muted"


def _scale(values: Sequence[Decimal]) -> Decimal:
    top = max([abs(v) for v in values] + [Decimal(0)])
    return top if top > 0 else Decimal(1)


def bar_chart(
    bars: Sequence[Bar], *, label: str, testid: str = "", width: int = WIDTH, height: int = HEIGHT
) -> SafeString:
    """Vertical bars, negative values drawn below the axis; labels under each bar, values above."""
    n = max(len(bars), 1)
    plot_h = height - PAD_BOTTOM - PAD_TOP
    has_negative = any(b.value < 0 for b in bars)
    top = _scale([b.value for b in bars])
    zero_y = PAD_TOP + (plot_h / 2 if has_negative else plot_h)
    unit = (plot_h / 2 if has_negative else plot_h) / float(top)
    slot = (width - PAD_LEFT * 2) / n
    bar_w = max(slot * 0.7, 2)
    parts = [
        f'<svg class="chart chart-bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"'
        f'{f" data-testid={chr(34)}{escape(testid)}{chr(34)}" if testid else ""} xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{PAD_LEFT}" y1="{zero_y:.1f}" x2="{width - PAD_LEFT}" y2="{zero_y:.1f}"/>',
    ]
    for i, b in enumerate(bars):
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        h = abs(float(b.value)) * unit
        y = zero_y - h if b.value >= 0 else zero_y
        title = escape(b.title or f"{b.label}: {b.value}")
        rect = (
            f'<rect class="bar{" bar-" + b.tone if b.tone else ""}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
            f'height="{max(h, 0.5):.1f}" data-value="{b.value}"><title>{title}</title></rect>'
        )
        text_y = height - PAD_BOTTOM + 14
        cx = x + bar_w / 2
        label_text = f'<text class="bar-label" x="{cx:.1f}" y="{text_y}" text-anchor="middle">{escape(b.label)}</text>'
        if b.href:
            parts.append(f'<a href="{escape(b.href)}" class="bar-link">{rect}{label_text}</a>')
        else:
            parts.append(rect + label_text)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def line_chart(
    points: Sequence[tuple[str, Decimal | None]],
    *,
    label: str,
    testid: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> SafeString:
    """A line through the defined points (None leaves a gap), with a dot and a tooltip on each."""
    n = max(len(points), 1)
    plot_h = height - PAD_BOTTOM - PAD_TOP
    values = [v for _, v in points if v is not None]
    top = _scale(values)
    slot = (width - PAD_LEFT * 2) / n
    parts = [
        f'<svg class="chart chart-line" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}"'
        f'{f" data-testid={chr(34)}{escape(testid)}{chr(34)}" if testid else ""} xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{width - PAD_LEFT}" y2="{PAD_TOP + plot_h}"/>',
    ]
    coords = []
    for i, (name, v) in enumerate(points):
        x = PAD_LEFT + slot * i + slot / 2
        parts.append(
            f'<text class="bar-label" x="{x:.1f}" y="{height - PAD_BOTTOM + 14}" text-anchor="middle">'
            f"{escape(name)}</text>"
        )
        if v is None:
            coords.append(None)
            continue
        y = PAD_TOP + plot_h - float(v) / float(top) * plot_h
        coords.append((x, y, name, v))
    segments, current = [], []
    for c in coords:
        if c is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(c)
    if current:
        segments.append(current)
    for seg in segments:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in seg)
        parts.append(f'<polyline class="line" points="{pts}"/>')
    for c in coords:
        if c is not None:
            x, y, name, v = c
            parts.append(
                f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5" data-value="{v}">'
                f"<title>{escape(name)}: {v}</title></circle>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
