"""Inline SVG charts for the HTML report, drawn here so the page needs no script and no network.

Two shapes cover the report: columns over consecutive days (spend over time) and horizontal bars
for ranked groups (top operations, models). Every bar carries its exact figures in `data-*`
attributes and a `<title>` tooltip, so a reader (or a test) can check the picture against the
store. Every piece of text passes through `html.escape`: names come from users' data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape
from typing import Final

from tokentrail.report._money import format_axis_usd, format_usd, nice_ticks

_WIDTH: Final = 760
_COLUMN_HEIGHT: Final = 280
_PLOT_LEFT: Final = 76
_PLOT_RIGHT: Final = 16
_PLOT_TOP: Final = 16
_PLOT_BOTTOM: Final = 52
_MOST_DAY_LABELS: Final = 10

_BAR_ROW: Final = 30
_BAR_THICKNESS: Final = 18
_LABEL_WIDTH: Final = 250
_VALUE_WIDTH: Final = 96
_LABEL_CHARACTERS: Final = 34


@dataclass(frozen=True)
class DaySpend:
    """One UTC day's known cost and run count."""

    day: date
    cost_usd: Decimal | None
    runs: int


@dataclass(frozen=True)
class RankedBar:
    """One group in a ranked bar chart: its name, its known cost and a line of detail."""

    label: str
    cost_usd: Decimal | None
    detail: str


def _amount(cost: Decimal | None) -> float:
    return float(cost) if cost is not None else 0.0


def _exact(cost: Decimal | None) -> str:
    return "" if cost is None else format(cost.normalize(), "f")


def _shorten(text: str) -> str:
    # Cut before escaping, so an entity is never cut in half.
    return text if len(text) <= _LABEL_CHARACTERS else text[: _LABEL_CHARACTERS - 1] + "…"


def _y_axis(ticks: list[float], plot_bottom: float, scale: float) -> list[str]:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    parts = []
    for tick in ticks:
        y = plot_bottom - tick * scale
        parts.append(
            f'<line class="grid" x1="{_PLOT_LEFT}" x2="{_WIDTH - _PLOT_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{_PLOT_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(format_axis_usd(tick, step))}</text>"
        )
    return parts


def _day_label(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def spend_over_time(days: Sequence[DaySpend], title: str) -> str:
    """Columns of cost per UTC day, one per day from the first to the last (gaps show as none).

    Args:
        days: the days that have records, in any order; days between them count as zero.
        title: the chart's accessible name.
    """
    known = {entry.day: entry for entry in days}
    first, last = min(known), max(known)
    every_day = [
        known.get(date.fromordinal(ordinal), DaySpend(date.fromordinal(ordinal), None, 0))
        for ordinal in range(first.toordinal(), last.toordinal() + 1)
    ]

    plot_bottom = _COLUMN_HEIGHT - _PLOT_BOTTOM
    plot_height = plot_bottom - _PLOT_TOP
    ticks = nice_ticks(max(_amount(entry.cost_usd) for entry in every_day))
    scale = plot_height / ticks[-1]
    slot = (_WIDTH - _PLOT_LEFT - _PLOT_RIGHT) / len(every_day)
    thickness = max(1.0, min(slot * 0.7, 48.0))
    label_every = math.ceil(len(every_day) / _MOST_DAY_LABELS)

    parts = _y_axis(ticks, plot_bottom, scale)
    for index, entry in enumerate(every_day):
        height = _amount(entry.cost_usd) * scale
        x = _PLOT_LEFT + index * slot + (slot - thickness) / 2
        runs = f"{entry.runs:,} run{'' if entry.runs == 1 else 's'}"
        tooltip = f"{entry.day.isoformat()}: {format_usd(entry.cost_usd)}, {runs}"
        parts.append(
            f'<rect class="bar day" data-day="{entry.day.isoformat()}" '
            f'data-cost="{_exact(entry.cost_usd)}" data-runs="{entry.runs}" '
            f'x="{x:.2f}" y="{plot_bottom - height:.2f}" width="{thickness:.2f}" '
            f'height="{height:.2f}"><title>{escape(tooltip)}</title></rect>'
        )
        if index % label_every == 0:
            center = _PLOT_LEFT + (index + 0.5) * slot
            parts.append(
                f'<text class="tick" x="{center:.1f}" y="{plot_bottom + 18}" '
                f'text-anchor="middle">{escape(_day_label(entry.day))}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{_PLOT_LEFT}" x2="{_WIDTH - _PLOT_RIGHT}" '
        f'y1="{plot_bottom}" y2="{plot_bottom}"/>'
        f'<text class="axis-title" x="{(_PLOT_LEFT + _WIDTH - _PLOT_RIGHT) / 2:.0f}" '
        f'y="{_COLUMN_HEIGHT - 8}" text-anchor="middle">Day (UTC)</text>'
        f'<text class="axis-title" transform="rotate(-90)" x="{-(plot_bottom + _PLOT_TOP) / 2:.0f}"'
        f' y="16" text-anchor="middle">Cost (USD)</text>'
    )
    return _svg("chart-days", title, _COLUMN_HEIGHT, parts)


def ranked_bars(bars: Sequence[RankedBar], chart_id: str, title: str) -> str:
    """Horizontal bars, longest first as given, each labelled with its name and its cost.

    Args:
        bars: the groups, already ranked.
        chart_id: the `id` of the `<svg>` element.
        title: the chart's accessible name.
    """
    height = _BAR_ROW * len(bars) + 8
    bar_left = _LABEL_WIDTH + 12
    longest = _WIDTH - bar_left - _VALUE_WIDTH
    largest = max((_amount(bar.cost_usd) for bar in bars), default=0.0)
    parts = []
    for index, bar in enumerate(bars):
        top = 4 + index * _BAR_ROW
        middle = top + _BAR_ROW / 2
        length = longest * _amount(bar.cost_usd) / largest if largest > 0 else 0.0
        tooltip = f"{bar.label}: {format_usd(bar.cost_usd)}, {bar.detail}"
        parts.append(
            f'<g class="ranked" data-label="{escape(bar.label)}" '
            f'data-cost="{_exact(bar.cost_usd)}"><title>{escape(tooltip)}</title>'
            f'<text class="label" x="{_LABEL_WIDTH}" y="{middle + 4:.1f}" text-anchor="end">'
            f"{escape(_shorten(bar.label))}</text>"
            f'<rect class="bar" x="{bar_left}" y="{middle - _BAR_THICKNESS / 2:.1f}" '
            f'width="{max(length, 1.5):.2f}" height="{_BAR_THICKNESS}" rx="3"/>'
            f'<text class="value" x="{bar_left + length + 8:.1f}" y="{middle + 4:.1f}">'
            f"{escape(format_usd(bar.cost_usd))}</text></g>"
        )
    return _svg(chart_id, title, height, parts)


def _svg(chart_id: str, title: str, height: int, parts: list[str]) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
