"""`tokentrail report`: who spent what, from any store.

    tokentrail report [--store URL] [--by KEY[,KEY...]] [--since DATE] [--until DATE]
                      [--organization ID]... [--format table|csv|json] [--html FILE]
                      [--reprice]

`--html FILE` writes one self-contained page with charts instead of printing the report.

Exit codes: 0 the report was printed (or the page written); 2 a usage error or a store that
cannot be read (an `error:` line says which).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from tokentrail._arguments import ArgumentParser, UsageError
from tokentrail.report._query import GROUP_KEYS, ReportQuery
from tokentrail.report._render import to_csv, to_json, write_table
from tokentrail.report._source import ReportError, read_report, store_path_url


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="tokentrail report",
        description="Show who spent what: tokens, runs and cost from a tokentrail store.",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="sqlite:///FILE or postgresql://... (default: TOKENTRAIL_STORE, else the embedded "
        "SQLite file)",
    )
    parser.add_argument(
        "--by",
        default="organization",
        metavar="KEYS",
        help=f"group by these, comma-separated: {', '.join(GROUP_KEYS)} (default: organization)",
    )
    parser.add_argument(
        "--since", metavar="DATE", help="from this ISO date or time (UTC unless it says)"
    )
    parser.add_argument(
        "--until",
        metavar="DATE",
        help="up to this ISO time, or to the end of this ISO date (UTC unless it says)",
    )
    parser.add_argument(
        "--organization",
        action="append",
        default=[],
        metavar="ID",
        help="only this organization (repeat for several)",
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument(
        "--html",
        metavar="FILE",
        type=Path,
        help="write a self-contained HTML page with charts to FILE instead of printing",
    )
    parser.add_argument(
        "--reprice",
        action="store_true",
        help="also price the tokens with today's prices (custom prices, then genai-prices) and "
        "show the difference from the stored cost; the store is not changed",
    )
    return parser


def _group_by(text: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    unknown = [key for key in keys if key not in GROUP_KEYS]
    if unknown:
        raise UsageError(f"--by: unknown key {unknown[0]!r}; choose from {', '.join(GROUP_KEYS)}")
    if len(set(keys)) != len(keys):
        raise UsageError(f"--by: a key is repeated in {text!r}")
    return keys


def _moment(flag: str, text: str | None, *, end_of_day: bool) -> datetime | None:
    """An ISO date or time as an aware UTC datetime; a date for --until means its whole day."""
    if text is None:
        return None
    try:
        if len(text) == len("YYYY-MM-DD"):
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{flag}: {text!r} is not an ISO date or time; write 2026-12-01 or "
            "2026-12-01T09:30:00+00:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _store_url(given: str | None) -> str:
    if given:
        return given
    from_environment = os.environ.get("TOKENTRAIL_STORE")
    if from_environment:
        return from_environment
    from tokentrail.stores import default_sqlite_path

    return store_path_url(default_sqlite_path())


def _query(arguments: argparse.Namespace) -> ReportQuery:
    since = _moment("--since", arguments.since, end_of_day=False)
    until = _moment("--until", arguments.until, end_of_day=True)
    if since is not None and until is not None and since >= until:
        raise UsageError(f"--since {arguments.since} is not before --until {arguments.until}")
    return ReportQuery(
        group_by=_group_by(arguments.by),
        since=since,
        until=until,
        organizations=tuple(arguments.organization),
    )


def main(argv: list[str]) -> int:
    """Print the report `argv` asks for; return the exit code."""
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
        query = _query(arguments)
    except UsageError as error:
        print(f"{parser.format_usage().rstrip()}\nerror: {error}", file=sys.stderr)
        return 2

    if arguments.reprice:
        if arguments.html is not None:
            print("error: --reprice: cannot be combined with --html", file=sys.stderr)
            return 2
        from tokentrail.report._reprice_output import print_repriced

        return print_repriced(_store_url(arguments.store), query, arguments.format, sys.stdout)

    if arguments.html is not None:
        return _write_html(_store_url(arguments.store), query, arguments.html)

    try:
        report = read_report(_store_url(arguments.store), query)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    if arguments.format == "json":
        sys.stdout.write(to_json(report))
    elif arguments.format == "csv":
        sys.stdout.write(to_csv(report))
    else:
        write_table(report, sys.stdout)
    return 0


def _write_html(url: str, query: ReportQuery, path: Path) -> int:
    from tokentrail.report._html import html_page, read_dashboard

    try:
        page = html_page(read_dashboard(url, query))
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        print(f"error: --html: cannot write {path}: {error.strerror or error}", file=sys.stderr)
        return 2
    print(f"wrote the report to {path}", file=sys.stderr)
    return 0
