"""Charts drawn as SVG on the server (pure: numbers in, markup out; no I/O, no clock).

Every text that reaches the markup is escaped; colours come from ``static/console.css`` classes, so
the pages keep a strict Content-Security-Policy (no inline styles or scripts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

__all__ = ["ChartDay", "ListingSpan", "bars", "listings_timeline", "sparkline", "warmup_chart"]


def _scale(value: float, top: float, height: float) -> float:
    return height - (value / top) * height if top > 0 else height


def sparkline(values: Sequence[int], *, label: str, width: int = 120, height: int = 28) -> Markup:
    """A small line of daily values (oldest first) with its label for screen readers."""
    top = max(values, default=0)
    if not values:
        return Markup('<span class="muted">no data</span>')
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{index * step:.1f},{_scale(value, top, height - 2) + 1:.1f}" for index, value in enumerate(values)
    )
    return Markup(
        '<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}">'
        '<title>{label}</title><polyline class="spark-line" fill="none" points="{points}"/></svg>'
    ).format(w=width, h=height, label=label, points=points)


@dataclass(frozen=True, slots=True)
class ChartDay:
    """One calendar day of a warmup: the curve's point, the limit decided, what was sent, and why."""

    label: str  # the date
    planned: int | None  # the curve's point for this day if every day had advanced
    limit: int | None  # the limit the plan gave that day
    sent: int | None  # what the IP actually sent (accounting), None when not known yet
    decision: str | None  # advance, hold, pause…
    note: str = ""  # why (the gate that decided, and its reason)


_MARKED = {"hold": "mark-hold", "pause": "mark-pause", "step_back": "mark-pause"}


def warmup_chart(days: Sequence[ChartDay], *, title: str, width: int = 720, height: int = 260) -> Markup:
    """Planned curve (line) against actual sends (bars) and the limit given (steps); held and paused
    days marked, each mark's tooltip naming the gate that decided and why."""
    if not days:
        return Markup('<p class="muted">The plan has no days yet: start it to see its curve.</p>')
    left, bottom, top_pad = 56, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    top = max(
        [d.planned or 0 for d in days] + [d.limit or 0 for d in days] + [d.sent or 0 for d in days] + [1]
    )
    step = plot_w / len(days)
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="wc-title">',
        f'<title id="wc-title">{escape(title)}</title>',
    ]
    for fraction in (0, 0.5, 1):
        y = top_pad + _scale(top * fraction, top, plot_h)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{int(top * fraction):,}</text>'
        )
    for index, day in enumerate(days):
        x = left + index * step
        if day.sent is not None:
            y = top_pad + _scale(day.sent, top, plot_h)
            parts.append(
                f'<rect class="bar-sent" x="{x + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                f'height="{top_pad + plot_h - y:.1f}"><title>{escape(day.label)}: sent {day.sent:,}'
                f"</title></rect>"
            )
        mark = _MARKED.get(day.decision or "")
        if mark:
            parts.append(
                f'<rect class="{mark}" x="{x:.1f}" y="{top_pad}" width="{step:.1f}" height="{plot_h}">'
                f"<title>{escape(day.label)}: {escape(day.decision or '')} — {escape(day.note)}</title></rect>"
            )
    planned = [(i, d.planned) for i, d in enumerate(days) if d.planned is not None]
    if planned:
        points = " ".join(
            f"{left + (i + 0.5) * step:.1f},{top_pad + _scale(v, top, plot_h):.1f}" for i, v in planned
        )
        parts.append(f'<polyline class="line-planned" fill="none" points="{points}"/>')
    limits = [(i, d.limit) for i, d in enumerate(days) if d.limit is not None]
    if limits:
        points = " ".join(
            f"{left + (i + 0.5) * step:.1f},{top_pad + _scale(v, top, plot_h):.1f}" for i, v in limits
        )
        parts.append(f'<polyline class="line-limit" fill="none" points="{points}"/>')
        for i, v in limits:
            parts.append(
                f'<circle class="dot-limit" cx="{left + (i + 0.5) * step:.1f}" '
                f'cy="{top_pad + _scale(v, top, plot_h):.1f}" r="3"><title>{escape(days[i].label)}: limit '
                f"{v:,}</title></circle>"
            )
    for index in sorted({0, len(days) - 1, *range(0, len(days), max(len(days) // 6, 1))}):
        x = left + (index + 0.5) * step
        anchor = "end" if index == len(days) - 1 and len(days) > 1 else "middle"
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{height - 8}" text-anchor="{anchor}">'
            f"{escape(days[index].label)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape())


def bars(items: Sequence[tuple[str, int]], *, title: str, width: int = 480, row: int = 22) -> Markup:
    """Horizontal bars, one per (label, value), largest value full width."""
    if not items:
        return Markup('<p class="muted">Nothing to show yet.</p>')
    top = max(value for _label, value in items) or 1
    label_w = 150
    height = row * len(items) + 4
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(items):
        y = index * row + 2
        bar_w = (width - label_w - 70) * value / top
        parts.append(
            f'<text class="axis" x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect class="bar-sent" x="{label_w}" y="{y + 3}" width="{bar_w:.1f}" height="{row - 6}"/>'
        )
        parts.append(f'<text class="axis" x="{label_w + bar_w + 6:.1f}" y="{y + 15}">{value:,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape())


@dataclass(frozen=True, slots=True)
class ListingSpan:
    """One listing episode: on ``zone`` from ``start`` until ``end`` (None: still listed)."""

    zone: str
    start: datetime
    end: datetime | None


def listings_timeline(
    spans: Sequence[ListingSpan], *, now: datetime, title: str, width: int = 720, row: int = 22
) -> Markup:
    """One row per zone, a bar per listing episode from first seen to delisted (open ones reach ``now``),
    over the time since the first episode began; each bar's tooltip gives its dates."""
    if not spans:
        return Markup('<p class="muted">Never seen on a blacklist.</p>')
    first = min(span.start for span in spans)
    total = max((now - first).total_seconds(), 3600.0)
    zones = sorted({span.zone for span in spans})
    label_w, right = 170, 8
    plot_w = width - label_w - right
    height = row * len(zones) + 24
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, zone in enumerate(zones):
        y = index * row + 2
        parts.append(
            f'<text class="axis" x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(zone)}</text>'
        )
        for span in (s for s in spans if s.zone == zone):
            x0 = label_w + plot_w * (span.start - first).total_seconds() / total
            x1 = label_w + plot_w * ((span.end or now) - first).total_seconds() / total
            state = "still listed" if span.end is None else f"delisted {span.end:%Y-%m-%d %H:%M} UTC"
            parts.append(
                f'<rect class="{"mark-pause" if span.end is None else "bar-sent"}" x="{x0:.1f}" y="{y + 3}" '
                f'width="{max(x1 - x0, 2.0):.1f}" height="{row - 6}"><title>{escape(zone)}: listed '
                f"{span.start:%Y-%m-%d %H:%M} UTC, {state}</title></rect>"
            )
    axis_y = height - 6
    parts.append(f'<text class="axis" x="{label_w}" y="{axis_y}">{first:%Y-%m-%d}</text>')
    parts.append(f'<text class="axis" x="{width - right}" y="{axis_y}" text-anchor="end">now</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape())
