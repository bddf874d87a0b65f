"""Coverage reports: a table for people, JSON for scripts, markdown for CI job summaries.

Files without any agent run (or undecided call) are left out of the per-file lists: in a large
project they would bury the few files that matter. The totals count every file.
"""

from __future__ import annotations

import json
from typing import Any

from tokentrail_lint.tracking_coverage import FileCoverage, ListedRun, ProjectCoverage, Tally


def _counts(tally: Tally) -> dict[str, Any]:
    return {
        "total": tally.total,
        "tracked": tally.tracked,
        "suppressed": tally.suppressed,
        "unknown": tally.unknown,
        "percent": tally.percent,
    }


def _listed(run: ListedRun) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": run.path,
        "line": run.line,
        "column": run.column,
        "call": run.call,
    }
    if run.reason:
        entry["reason"] = run.reason
    return entry


def _reported_files(report: ProjectCoverage) -> list[FileCoverage]:
    return [file for file in report.files if file.tally.total or file.tally.unknown]


def to_json(report: ProjectCoverage) -> str:
    """Return the report in the shape CONTRACT §5 gives, plus the listed runs."""
    document = {
        **_counts(report.tally),
        "files": [
            {
                "path": file.path,
                **_counts(file.tally),
                "classes": [
                    {"name": name, **_counts(tally)} for name, tally in sorted(file.classes.items())
                ],
            }
            for file in _reported_files(report)
        ],
        "suppressed_runs": [_listed(run) for run in report.suppressed_runs],
        "unknown_runs": [_listed(run) for run in report.unknown_runs],
    }
    return json.dumps(document, indent=2) + "\n"


def _rows(report: ProjectCoverage) -> list[tuple[str, Tally]]:
    rows: list[tuple[str, Tally]] = []
    for file in _reported_files(report):
        rows.append((file.path, file.tally))
        rows.extend((f"{file.path}::{name}", tally) for name, tally in sorted(file.classes.items()))
    rows.append(("TOTAL", report.tally))
    return rows


_HEADER = ("scope", "runs", "tracked", "suppressed", "unknown", "percent")


def _cells(name: str, tally: Tally) -> tuple[str, ...]:
    return (
        name,
        str(tally.total),
        str(tally.tracked),
        str(tally.suppressed),
        str(tally.unknown),
        f"{tally.percent:.1f}%",
    )


def _listing(report: ProjectCoverage) -> list[str]:
    lines = [
        f"suppressed: {run.path}:{run.line}:{run.column} {run.call}"
        for run in report.suppressed_runs
    ]
    lines += [
        f"unknown: {run.path}:{run.line}:{run.column} {run.call}"
        + (f" ({run.reason})" if run.reason else "")
        for run in report.unknown_runs
    ]
    return lines


def to_table(report: ProjectCoverage) -> str:
    """Return a plain aligned table, then the suppressed and unknown runs one a line."""
    rows = [_HEADER, *(_cells(name, tally) for name, tally in _rows(report))]
    widths = [max(len(row[index]) for row in rows) for index in range(len(_HEADER))]
    lines = [
        "  ".join(
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    return "\n".join([*lines, *_listing(report)]) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(report: ProjectCoverage) -> str:
    """Return a GitHub-flavoured markdown table, e.g. for `$GITHUB_STEP_SUMMARY`."""
    lines = [
        f"### tokentrail coverage: {report.tally.percent:.1f}% of agent runs tracked",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "|".join([":---", *["---:"] * (len(_HEADER) - 1)]) + "|",
    ]
    for name, tally in _rows(report):
        cells = list(_cells(name, tally))
        cells[0] = f"`{_markdown_cell(name)}`" if name != "TOTAL" else "**total**"
        lines.append("| " + " | ".join(cells) + " |")
    listing = _listing(report)
    if listing:
        lines += ["", *(f"- `{_markdown_cell(line)}`" for line in listing)]
    return "\n".join(lines) + "\n"
