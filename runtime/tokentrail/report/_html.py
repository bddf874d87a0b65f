"""`tokentrail report --html FILE`: one self-contained page with charts and the summary table.

The page carries its own CSS and SVG: no script, no font or stylesheet from the network, so it
opens from a mail attachment or an air-gapped machine and looks the same. Its figures come from
the same SQL sums as the other formats (one grouped query per chart); Python only ranks the few
rows the database returns. Everything taken from the store is escaped, since organization and
operation names are whatever the application wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from html import escape
from typing import Final

from tokentrail.report._money import format_usd
from tokentrail.report._query import ReportQuery
from tokentrail.report._source import Report, ReportRow, read_report
from tokentrail.report._style import PAGE_STYLE
from tokentrail.report._svg import DaySpend, RankedBar, ranked_bars, spend_over_time

TOP_COUNT: Final = 10
"""How many operations and models the ranked charts show."""

_NO_VALUE: Final = "(none)"

_COLUMNS: Final = (
    ("runs", "Runs"),
    ("requests", "Requests"),
    ("input_tokens", "Input tokens"),
    ("output_tokens", "Output tokens"),
    ("cost_usd", "Cost (USD)"),
    ("unpriced_records", "Unpriced records"),
)


@dataclass(frozen=True)
class Dashboard:
    """What the page shows: the summary the user asked for and one report per chart."""

    summary: Report
    days: Report
    operations: Report
    models: Report
    generated_at: datetime


def read_dashboard(url: str, query: ReportQuery) -> Dashboard:
    """Sum the store at `url` for the page: `query` for the table, fixed groupings for the charts.

    Raises:
        ReportError: the store cannot be read (see `read_report`).
    """
    return Dashboard(
        summary=read_report(url, query),
        days=read_report(url, replace(query, group_by=("day",))),
        operations=read_report(url, replace(query, group_by=("tool", "operation"))),
        models=read_report(url, replace(query, group_by=("model", "provider"))),
        generated_at=datetime.now(UTC),
    )


def _name(value: str | None) -> str:
    return _NO_VALUE if value is None else value


def _cost_rank(row: ReportRow) -> tuple[Decimal, int, int]:
    return (row.cost_usd or Decimal(0), row.runs, row.input_tokens)


def _top(report: Report) -> tuple[list[ReportRow], int]:
    ranked = sorted(report.rows, key=_cost_rank, reverse=True)
    return ranked[:TOP_COUNT], max(0, len(ranked) - TOP_COUNT)


def _runs(count: int) -> str:
    return f"{count:,} run{'' if count == 1 else 's'}"


def _detail(row: ReportRow) -> str:
    detail = f"{_runs(row.runs)}, {row.input_tokens + row.output_tokens:,} tokens"
    if row.unpriced_records:
        detail += f", {row.unpriced_records:,} unpriced"
    return detail


def _operation_bars(report: Report) -> tuple[list[RankedBar], int]:
    rows, left_out = _top(report)
    bars = [
        RankedBar(f"{_name(row.keys[0])} · {_name(row.keys[1])}", row.cost_usd, _detail(row))
        for row in rows
    ]
    return bars, left_out


def _model_bars(report: Report) -> tuple[list[RankedBar], int]:
    rows, left_out = _top(report)
    bars = [
        RankedBar(f"{_name(row.keys[0])} ({_name(row.keys[1])})", row.cost_usd, _detail(row))
        for row in rows
    ]
    return bars, left_out


def _day_spend(report: Report) -> list[DaySpend]:
    return [
        DaySpend(date.fromisoformat(row.keys[0]), row.cost_usd, row.runs)
        for row in report.rows
        if row.keys[0] is not None
    ]


def _period(query: ReportQuery) -> str:
    def moment(value: datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M UTC")

    if query.since and query.until:
        return f"{moment(query.since)} to {moment(query.until)}"
    if query.since:
        return f"since {moment(query.since)}"
    if query.until:
        return f"until {moment(query.until)}"
    return "all recorded usage"


def _header(dashboard: Dashboard) -> str:
    query = dashboard.summary.query
    facts = [
        ("Store", dashboard.summary.store),
        ("Period", _period(query)),
        ("Generated", dashboard.generated_at.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if query.organizations:
        facts.insert(2, ("Organizations", ", ".join(query.organizations)))
    items = "".join(
        f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>" for label, value in facts
    )
    return (
        '<header><p class="eyebrow">tokentrail</p><h1>Usage and cost report</h1>'
        f'<dl class="facts">{items}</dl></header>'
    )


def _cards(total: ReportRow) -> str:
    cards = [
        ("total-cost", "Total cost", format_usd(total.cost_usd)),
        ("total-runs", "Agent runs", f"{total.runs:,}"),
        ("total-input", "Input tokens", f"{total.input_tokens:,}"),
        ("total-output", "Output tokens", f"{total.output_tokens:,}"),
    ]
    html = "".join(
        f'<div class="card" id="{card_id}"><p class="card-label">{label}</p>'
        f'<p class="card-value">{escape(value)}</p></div>'
        for card_id, label, value in cards
    )
    note = ""
    if total.unpriced_records:
        note = (
            f'<p class="note" id="unpriced-note">{total.unpriced_records:,} of '
            f"{total.records:,} records have no known price and are not in the costs shown: "
            "the totals are a lower bound.</p>"
        )
    return f'<section class="cards">{html}</section>{note}'


def _chart_section(title: str, body: str, left_out: int = 0, what: str = "") -> str:
    more = ""
    if left_out:
        more = f'<p class="more">and {left_out:,} more {what} with a smaller cost</p>'
    return f'<section class="panel"><h2>{escape(title)}</h2>{body}{more}</section>'


def _cell(row: ReportRow, metric: str) -> str:
    if metric == "cost_usd":
        exact = "" if row.cost_usd is None else format(row.cost_usd.normalize(), "f")
        return (
            f'<td class="number" data-cost="{exact}" title="{escape(exact or "unknown")}">'
            f"{escape(format_usd(row.cost_usd))}</td>"
        )
    value: int = getattr(row, metric)
    return f'<td class="number" data-{metric.replace("_", "-")}="{value}">{value:,}</td>'


def _summary_table(report: Report) -> str:
    keys = report.query.group_by
    key_titles = "".join(f'<th scope="col">{escape(key.title())}</th>' for key in keys)
    metric_titles = "".join(f'<th scope="col" class="number">{title}</th>' for _, title in _COLUMNS)
    body = []
    for row in report.rows:
        labels = "".join(
            f'<td class="{"key none" if key is None else "key"}">{escape(_name(key))}</td>'
            for key in row.keys
        )
        cells = "".join(_cell(row, metric) for metric, _ in _COLUMNS)
        body.append(f"<tr>{labels}{cells}</tr>")
    total_label = f'<th scope="row" colspan="{len(keys)}">Total</th>' if keys else ""
    total_cells = "".join(_cell(report.total, metric) for metric, _ in _COLUMNS)
    grouped = ", ".join(keys) if keys else "nothing (the total only)"
    return (
        f'<section class="panel"><h2>Summary by {escape(grouped)}</h2>'
        '<div class="table-wrap"><table id="summary">'
        f"<thead><tr>{key_titles}{metric_titles}</tr></thead>"
        f"<tbody>{''.join(body) if keys else ''}</tbody>"
        f'<tfoot><tr class="total">{total_label}{total_cells}</tr></tfoot>'
        "</table></div></section>"
    )


def _charts(dashboard: Dashboard) -> str:
    operations, operations_left_out = _operation_bars(dashboard.operations)
    models, models_left_out = _model_bars(dashboard.models)
    days = _day_spend(dashboard.days)
    sections = []
    if days:
        sections.append(_chart_section("Spend per day", spend_over_time(days, "Cost per UTC day")))
    sections.append(
        _chart_section(
            "Top operations by cost",
            ranked_bars(operations, "chart-operations", "Cost per tool and operation"),
            operations_left_out,
            "operations",
        )
    )
    sections.append(
        _chart_section(
            "Cost by model",
            ranked_bars(models, "chart-models", "Cost per model"),
            models_left_out,
            "models",
        )
    )
    return "".join(sections)


def _empty() -> str:
    return (
        '<section class="panel empty" id="no-data"><h2>No data</h2>'
        "<p>The store has no usage records for this selection. Check that the application "
        "writes to this store (TOKENTRAIL_STORE), widen --since and --until, or run "
        "<code>tokentrail doctor</code>.</p></section>"
    )


def html_page(dashboard: Dashboard) -> str:
    """The whole page as text: header, headline figures, the three charts and the table."""
    total = dashboard.summary.total
    if total.records == 0:
        content = _empty()
    else:
        content = _cards(total) + _charts(dashboard) + _summary_table(dashboard.summary)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing on this page may load from anywhere: a strict policy proves it in the browser.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        "<title>tokentrail usage report</title>"
        f"<style>{PAGE_STYLE}</style></head>"
        f"<body><main>{_header(dashboard)}{content}"
        "<footer>Costs are the sum of the known prices of each record, in US dollars. "
        "Days are UTC days of each run's end.</footer></main></body></html>\n"
    )
