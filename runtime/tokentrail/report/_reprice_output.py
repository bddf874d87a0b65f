"""Printing a repriced report: the usual figures plus the cost as priced now, and the change.

JSON and CSV are the plain report's documents with repriced columns added, so a script that
reads one reads the other. The table shows the stored and repriced cost side by side.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from decimal import Decimal
from typing import Any, Literal, TextIO

from tokentrail.report._query import ReportQuery
from tokentrail.report._render import exact_cost, to_csv, to_json
from tokentrail.report._reprice import (
    RepricedFigures,
    RepricedReport,
    price_table_for_report,
    reprice,
    sources_text,
)
from tokentrail.report._source import ReportError, ReportRow

_NO_VALUE = "(none)"
_CSV_COLUMNS = ("repriced_cost_usd", "repriced_difference_usd", "repriced_unpriced_records")


def print_repriced(url: str, query: ReportQuery, output_format: str, out: TextIO) -> int:
    """Reprice the store at `url` with today's prices and print it; return the exit code.

    A store that cannot be read or an invalid price table is an `error:` line and exit code 2.
    """
    try:
        table, path = price_table_for_report()
        repriced = reprice(url, query, table, path)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if output_format == "json":
        out.write(repriced_json(repriced))
    elif output_format == "csv":
        out.write(repriced_csv(repriced))
    else:
        write_repriced_table(repriced, out)
    return 0


def _json_figures(figures: RepricedFigures) -> dict[str, Any]:
    return {
        "repriced_cost_usd": exact_cost(figures.repriced_cost_usd),
        "repriced_difference_usd": exact_cost(figures.difference_usd),
        "repriced_unpriced_records": figures.unpriced_records,
        "repriced_sources": dict(figures.sources),
    }


def repriced_json(repriced: RepricedReport) -> str:
    """The report's JSON document, each row and the total carrying its repriced figures."""
    document = json.loads(to_json(repriced.report))
    for row, figures in zip(document["rows"], repriced.rows, strict=True):
        row.update(_json_figures(figures))
    document["total"].update(_json_figures(repriced.total))
    document["repriced_with"] = {
        "prices_file": None if repriced.prices_file is None else str(repriced.prices_file)
    }
    return json.dumps(document, indent=2) + "\n"


def repriced_csv(repriced: RepricedReport) -> str:
    """The report's CSV with three repriced columns appended."""
    lines = list(csv.reader(io.StringIO(to_csv(repriced.report))))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*lines[0], *_CSV_COLUMNS])
    for line, figures in zip(lines[1:], repriced.rows, strict=True):
        writer.writerow(
            [
                *line,
                exact_cost(figures.repriced_cost_usd) or "",
                exact_cost(figures.difference_usd) or "",
                figures.unpriced_records,
            ]
        )
    return buffer.getvalue()


def _money(cost: Decimal | None, *, signed: bool = False) -> str:
    if cost is None:
        return "unknown"
    return f"{cost:+,.4f}" if signed else f"{cost:,.4f}"


def _cells(row: ReportRow, figures: RepricedFigures) -> list[str]:
    return [
        f"{row.records:,}",
        f"{row.input_tokens:,}",
        f"{row.output_tokens:,}",
        _money(figures.stored_cost_usd),
        _money(figures.repriced_cost_usd),
        _money(figures.difference_usd, signed=True),
        f"{figures.unpriced_records:,}",
    ]


_FIGURE_TITLES = (
    "records",
    "input tokens",
    "output tokens",
    "stored (USD)",
    "repriced (USD)",
    "difference",
    "unpriced",
)


def _caption(repriced: RepricedReport) -> str:
    origin = (
        f"custom prices from {repriced.prices_file} and genai-prices"
        if repriced.prices_file is not None
        else "genai-prices (no custom prices configured)"
    )
    caption = f"Repriced with {origin}; records by source: {sources_text(repriced.total.sources)}"
    if repriced.total.unpriced_records:
        caption += f"; {repriced.total.unpriced_records:,} records still have no known price"
    return caption + ". The store is unchanged."


def _plain_table(header: list[str], body: list[list[str]], total: list[str], keys: int) -> str:
    widths = [
        max(len(line[index]) for line in [header, *body, total]) for index in range(len(header))
    ]
    rule = "  ".join("-" * width for width in widths)

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(width) if index < keys else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(header), rule, *(line(cells) for cells in body), rule, line(total)])


def write_repriced_table(repriced: RepricedReport, out: TextIO) -> None:
    """Stored and repriced cost per group: rich on a terminal, aligned text otherwise."""
    keys = list(repriced.report.query.group_by) or ["all"]
    header = [*keys, *_FIGURE_TITLES]
    body = [
        [
            *([_NO_VALUE if key is None else key for key in row.keys] or ["all"]),
            *_cells(row, figures),
        ]
        for row, figures in zip(repriced.report.rows, repriced.rows, strict=True)
    ]
    total = ["total", *([""] * (len(keys) - 1)), *_cells(repriced.report.total, repriced.total)]
    if not out.isatty():
        out.write(_plain_table(header, body, total, len(keys)) + "\n")
        out.write(_caption(repriced) + "\n")
        return

    from rich.console import Console
    from rich.table import Table

    table = Table(caption=_caption(repriced), show_footer=True)
    for index, title in enumerate(header):
        justify: Literal["left", "right"] = "left" if index < len(keys) else "right"
        table.add_column(title, footer=total[index], justify=justify, no_wrap=True)
    for cells in body:
        table.add_row(*cells)
    Console(file=out).print(table)
