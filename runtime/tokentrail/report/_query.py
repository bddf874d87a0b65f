"""The report's question and the SQL that answers it, for SQLite and PostgreSQL.

Everything is summed by the database. Two rules keep the sums honest: a run's `duration_ms`
repeats on each of its rows, so it is never summed; and a run served by two models has two rows,
so runs are counted as distinct run ids, with a row that has no run id counting as a run of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from tokentrail.stores.schema import TABLE

Dialect = Literal["sqlite", "postgres"]

GROUP_KEYS: Final[tuple[str, ...]] = (
    "organization",
    "user",
    "tool",
    "operation",
    "model",
    "provider",
    "day",
)
"""What a report can be grouped by, as `--by` spells them."""

_KEY_COLUMNS: Final[Mapping[str, str]] = {
    "organization": "organization_id",
    "user": "user_id",
    "tool": "tool_name",
    "operation": "operation",
    "model": "model",
    "provider": "provider",
}

_DAY: Final[Mapping[Dialect, str]] = {
    # SQLite's date() reads the ISO 8601 text with its offset and answers the UTC day.
    "sqlite": "date(created_at)",
    "postgres": "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
}

# SQLite compares the text as UTC to the millisecond, so rows written with or without 'T',
# fraction or offset (older tables) compare alike.
_SQLITE_UTC: Final = "strftime('%Y-%m-%d %H:%M:%f', {})"

_CREATED_AT: Final[Mapping[Dialect, str]] = {
    "sqlite": _SQLITE_UTC.format("created_at"),
    "postgres": "created_at",
}

_INDEX_MARGIN: Final = timedelta(days=2)

COST_SCALE: Final = 10**10
"""SQLite stores decimals as text: costs are summed as whole 1e-10 dollars, PostgreSQL's scale."""

_COST_SUM: Final[Mapping[Dialect, str]] = {
    "sqlite": f"SUM(CAST(ROUND(CAST(cost_usd AS REAL) * {COST_SCALE}) AS INTEGER))",
    "postgres": "SUM(cost_usd)",
}

METRICS: Final[tuple[str, ...]] = (
    "runs",
    "records",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "tool_calls",
    "cost_usd",
    "unpriced_records",
)
"""The figures of each report row, in output order."""

_TOKEN_COLUMNS: Final = (
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "tool_calls",
)


@dataclass(frozen=True)
class ReportQuery:
    """What to sum: grouped by `group_by`, within `[since, until)`, for some organizations.

    Times are aware datetimes in UTC; `None` leaves that side open. An empty `organizations`
    means every organization.
    """

    group_by: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    organizations: tuple[str, ...] = ()


def key_expression(key: str, dialect: Dialect) -> str:
    """The SQL expression a `--by` key groups on."""
    return _DAY[dialect] if key == "day" else _KEY_COLUMNS[key]


def _metric_expressions(dialect: Dialect, columns: frozenset[str]) -> list[str]:
    # An older table lacks some columns: they count as zero (or, for run_id, one run per row).
    run_key = "COALESCE(run_id, CAST(id AS TEXT))" if {"run_id", "id"} <= columns else None
    runs = f"COUNT(DISTINCT {run_key})" if run_key else "COUNT(*)"
    expressions = [f"{runs} AS runs", "COUNT(*) AS records"]
    expressions += [
        f"COALESCE(SUM({column}), 0) AS {column}" if column in columns else f"0 AS {column}"
        for column in _TOKEN_COLUMNS
    ]
    expressions.append(f"{_COST_SUM[dialect]} AS cost_usd")
    expressions.append("COUNT(*) - COUNT(cost_usd) AS unpriced_records")
    return expressions


def build_sql(
    query: ReportQuery, dialect: Dialect, columns: frozenset[str]
) -> tuple[str, list[object]]:
    """The statement and its parameters for `query`, one result row per group.

    Args:
        query: what to sum.
        dialect: which SQL engine runs it.
        columns: the columns the store's table has (older tables lack some).

    Returns:
        SQL whose result columns are the group keys followed by `METRICS`, ordered by the keys.
    """
    placeholder = "?" if dialect == "sqlite" else "%s"
    keys = [
        f"{key_expression(key, dialect)} AS key_{index}" for index, key in enumerate(query.group_by)
    ]
    select = ", ".join([*keys, *_metric_expressions(dialect, columns)])

    conditions: list[str] = []
    parameters: list[object] = []
    for bound, operator, margin in (
        (query.since, ">=", -_INDEX_MARGIN),
        (query.until, "<", _INDEX_MARGIN),
    ):
        if bound is None:
            continue
        if dialect == "sqlite":
            # A loose bound on the raw text lets SQLite use its created_at index; the margin
            # covers any offset a row may have been written with. The exact test follows.
            conditions.append(f"created_at {operator} {placeholder}")
            parameters.append((bound + margin).date().isoformat())
        conditions.append(
            f"{_CREATED_AT[dialect]} {operator} {_time_parameter(dialect, placeholder)}"
        )
        parameters.append(_time_value(bound, dialect))
    if query.organizations:
        marks = ", ".join(placeholder for _ in query.organizations)
        conditions.append(f"organization_id IN ({marks})")
        parameters.extend(query.organizations)

    sql = f"SELECT {select} FROM {TABLE}"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    if query.group_by:
        positions = [str(index + 1) for index in range(len(query.group_by))]
        # Both engines put rows without a value (no user, no organization) last.
        ordering = ", ".join(f"{position} NULLS LAST" for position in positions)
        sql += f" GROUP BY {', '.join(positions)} ORDER BY {ordering}"
    return sql, parameters


def _time_parameter(dialect: Dialect, placeholder: str) -> str:
    return _SQLITE_UTC.format(placeholder) if dialect == "sqlite" else placeholder


def _time_value(moment: datetime, dialect: Dialect) -> object:
    return moment.isoformat() if dialect == "sqlite" else moment
