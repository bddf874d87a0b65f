"""Running the report's SQL against a store: the embedded SQLite file or PostgreSQL.

SQLite files are opened read-only, so a report never creates or changes a store. psycopg is
imported only for a `postgresql://` URL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tokentrail.report._query import Dialect, ReportQuery, build_sql
from tokentrail.stores.schema import TABLE

if TYPE_CHECKING:
    import psycopg


class ReportError(Exception):
    """The report cannot be made; the message says what happened and what to do."""


@dataclass(frozen=True)
class ReportRow:
    """The sums for one group (or for everything, in `Report.total`).

    `cost_usd` is the sum of the known costs, `None` when no row in the group has one;
    `unpriced_records` says how many rows it leaves out.
    """

    keys: tuple[str | None, ...]
    runs: int
    records: int
    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    tool_calls: int
    cost_usd: Decimal | None
    unpriced_records: int


@dataclass(frozen=True)
class Report:
    """A report: the groups in key order, and the total over all of them."""

    query: ReportQuery
    store: str
    rows: list[ReportRow]
    total: ReportRow


def _row(values: Sequence[Any], key_count: int, dialect: Dialect) -> ReportRow:
    keys = tuple(None if value is None else str(value) for value in values[:key_count])
    runs, records, requests, input_tokens, output_tokens, cache_read, cache_write, tool_calls = (
        int(value) for value in values[key_count : key_count + 8]
    )
    cost, unpriced = values[key_count + 8], values[key_count + 9]
    if cost is not None:
        cost = Decimal(cost).scaleb(-10) if dialect == "sqlite" else Decimal(cost)
    return ReportRow(
        keys=keys,
        runs=runs,
        records=records,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        tool_calls=tool_calls,
        cost_usd=cost,
        unpriced_records=int(unpriced),
    )


Fetch = Callable[[str, list[object]], list[tuple[Any, ...]]]
"""Runs one statement with its parameters and returns every row."""


def _summarise(
    fetch: Fetch, query: ReportQuery, dialect: Dialect, columns: frozenset[str], store: str
) -> Report:
    sql, parameters = build_sql(query, dialect, columns)
    rows = [_row(values, len(query.group_by), dialect) for values in fetch(sql, parameters)]
    total_query = ReportQuery(
        since=query.since, until=query.until, organizations=query.organizations
    )
    total_sql, total_parameters = build_sql(total_query, dialect, columns)
    total = _row(fetch(total_sql, total_parameters)[0], 0, dialect)
    return Report(query=query, store=store, rows=rows, total=total)


def _sqlite_report(url: str, query: ReportQuery) -> Report:
    from tokentrail.stores import StoreConfigurationError, sqlite_path_from_url

    try:
        path = sqlite_path_from_url(url)
    except StoreConfigurationError as error:
        raise ReportError(str(error)) from None
    if not path.is_file():
        raise ReportError(
            f"no store at {path}: the file does not exist. Pass --store with the URL your app "
            "writes to (or set TOKENTRAIL_STORE), e.g. sqlite:////var/lib/myapp/usage.db"
        )
    connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    try:
        columns = frozenset(row[1] for row in connection.execute(f"PRAGMA table_info({TABLE})"))
        if not columns:
            raise ReportError(f"{path} has no {TABLE} table: is it a tokentrail store?")

        def fetch(sql: str, parameters: list[object]) -> list[tuple[Any, ...]]:
            return connection.execute(sql, parameters).fetchall()

        return _summarise(fetch, query, "sqlite", columns, str(path))
    except sqlite3.DatabaseError as error:
        raise ReportError(f"cannot read {path}: {error}") from None
    finally:
        connection.close()


def _postgres_columns(connection: psycopg.Connection[tuple[Any, ...]]) -> frozenset[str]:
    found = connection.execute("SELECT to_regclass(%s)", [TABLE]).fetchone()
    if found is None or found[0] is None:
        return frozenset()
    names = connection.execute(
        "SELECT attname FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [TABLE],
    ).fetchall()
    return frozenset(str(name) for (name,) in names)


def _postgres_report(url: str, query: ReportQuery) -> Report:
    try:
        import psycopg
    except ImportError:
        raise ReportError(
            "reading a PostgreSQL store needs psycopg: pip install 'tokentrail[postgres]'"
        ) from None
    from tokentrail.stores._errors import mask_secrets

    shown = mask_secrets(url)
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            connection.read_only = True
            columns = _postgres_columns(connection)
            if not columns:
                raise ReportError(f"{shown} has no {TABLE} table: run `tokentrail store init`")

            def fetch(sql: str, parameters: list[object]) -> list[tuple[Any, ...]]:
                return connection.execute(sql, parameters).fetchall()

            return _summarise(fetch, query, "postgres", columns, shown)
    except psycopg.Error as error:
        raise ReportError(f"cannot read {shown}: {mask_secrets(str(error))}") from None


def read_report(url: str, query: ReportQuery) -> Report:
    """Sum the store at `url` as `query` asks.

    Raises:
        ReportError: the store is missing, unreadable, not a tokentrail store, or of a kind
            reports cannot read yet.
    """
    if url.startswith("sqlite://"):
        return _sqlite_report(url, query)
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres_report(url, query)
    if url.startswith("supabase://"):
        raise ReportError(
            "reports read Supabase through its database: pass the project's "
            "postgresql:// connection string (Project Settings > Database) as --store"
        )
    raise ReportError(
        f"unknown store URL {url.split('://', 1)[0]!r}: use sqlite:///FILE or postgresql://..."
    )


def store_path_url(path: Path) -> str:
    """The `sqlite://` URL of a file path."""
    return f"sqlite:///{path.resolve()}"
