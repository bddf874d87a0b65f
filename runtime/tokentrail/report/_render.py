"""A report as a terminal table, CSV or JSON.

Costs are written exactly (decimal text, never a float) in CSV and JSON, so a billing export
adds up to the cent; the table rounds them for reading.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any, TextIO

from tokentrail.report._query import METRICS
from tokentrail.report._source import Report, ReportRow

_NO_VALUE = "(none)"
_SMALLEST_SHOWN = Decimal("0.0001")

_TABLE_METRICS = (
    ("runs", "runs"),
    ("requests", "requests"),
    ("input_tokens", "input tokens"),
    ("output_tokens", "output tokens"),
    ("cost_usd", "cost (USD)"),
    ("unpriced_records", "unpriced"),
)


def exact_cost(cost: Decimal | None) -> str | None:
    """`cost` as plain decimal text without trailing zeros, or `None` when unknown."""
    if cost is None:
        return None
    return format(cost.normalize(), "f")


def _metric_values(row: ReportRow) -> dict[str, Any]:
    values: dict[str, Any] = {metric: getattr(row, metric) for metric in METRICS}
    values["cost_usd"] = exact_cost(row.cost_usd)
    return values


def to_json(report: Report) -> str:
    """The report as a JSON document: its question, one object per group, and the total."""
    query = report.query
    document = {
        "store": report.store,
        "group_by": list(query.group_by),
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
        "organizations": list(query.organizations),
        "rows": [
            {**dict(zip(query.group_by, row.keys, strict=True)), **_metric_values(row)}
            for row in report.rows
        ],
        "total": _metric_values(report.total),
    }
    return json.dumps(document, indent=2) + "\n"


def to_csv(report: Report) -> str:
    """One CSV line per group, with a header; no total line, so the file sums cleanly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*report.query.group_by, *METRICS])
    for row in report.rows:
        values = _metric_values(row)
        keys = ["" if key is None else key for key in row.keys]
        figures = ("" if values[metric] is None else values[metric] for metric in METRICS)
        writer.writerow([*keys, *figures])
    return buffer.getvalue()


def _rounded_cost(cost: Decimal | None) -> str:
    if cost is None:
        return "unknown"
    # A few cheap calls must not read as free.
    if Decimal(0) < cost < _SMALLEST_SHOWN:
        return f"<{_SMALLEST_SHOWN}"
    return f"{cost:,.4f}"


def _table_cells(row: ReportRow) -> list[str]:
    cells: list[str] = []
    for metric, _title in _TABLE_METRICS:
        value = getattr(row, metric)
        if metric == "cost_usd":
            cells.append(_rounded_cost(value))
        else:
            cells.append(f"{value:,}")
    return cells


def _table_rows(report: Report) -> tuple[list[str], list[list[str]], list[str]]:
    keys = list(report.query.group_by) or ["all"]
    header = [*keys, *(title for _metric, title in _TABLE_METRICS)]
    body = []
    for row in report.rows:
        labels = [_NO_VALUE if key is None else key for key in row.keys] or ["all"]
        body.append([*labels, *_table_cells(row)])
    total = ["total", *([""] * (len(keys) - 1)), *_table_cells(report.total)]
    return header, body, total


def _plain_table(header: list[str], body: list[list[str]], total: list[str]) -> str:
    key_count = len(header) - len(_TABLE_METRICS)
    widths = [
        max(len(line[index]) for line in [header, *body, total]) for index in range(len(header))
    ]

    def line(cells: list[str]) -> str:
        parts = [
            cell.ljust(width) if index < key_count else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return (
        "\n".join([line(header), rule, *(line(cells) for cells in body), rule, line(total)]) + "\n"
    )


def _caption(report: Report) -> str:
    total = report.total
    caption = f"{total.runs:,} runs, {total.records:,} records from {report.store}"
    if total.unpriced_records:
        caption += (
            f"; {total.unpriced_records:,} records have no known price and are not in the cost"
        )
    return caption


def write_table(report: Report, out: TextIO) -> None:
    """The report as a table: through rich on a terminal, aligned plain text otherwise."""
    header, body, total = _table_rows(report)
    if not out.isatty():
        out.write(_plain_table(header, body, total))
        out.write(_caption(report) + "\n")
        return

    from rich.console import Console
    from rich.table import Table

    key_count = len(header) - len(_TABLE_METRICS)
    table = Table(caption=_caption(report), show_footer=True)
    for index, title in enumerate(header):
        table.add_column(
            title,
            footer=total[index],
            justify="left" if index < key_count else "right",
            no_wrap=True,
        )
    for cells in body:
        table.add_row(*cells)
    console = Console(file=out)
    # Ids are what a billing team reads: a narrow terminal wraps the lines rather than cut them.
    needed = len(_plain_table(header, body, total).splitlines()[0]) + 3 * len(header) + 1
    if needed > console.width:
        console = Console(file=out, width=needed)
    console.print(table)
