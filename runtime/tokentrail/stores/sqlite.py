"""The embedded store: a SQLite file written on the caller's thread, no outbox in front of it.

A tracked call waits only for this local write. The database runs in WAL mode with
`synchronous=NORMAL`: a committed record survives a crash of the process (not of the machine),
and many threads and processes can write the same file. Checkpoints, which copy the write-ahead
log into the database and wait for the disk, are taken off the caller's path: `maintain()` runs
them from the tracker's background thread on a connection of its own.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

from tokentrail._record import COLUMNS, UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost
from tokentrail.stores._codec import Row, record_to_row, row_to_line, row_to_sql_values
from tokentrail.stores._summary import SUMMARY_COLUMNS, GroupBy, SummaryRow
from tokentrail.stores.schema import TABLE, create_statements

logger = logging.getLogger(__name__)

_INSERT: Final = (
    f"INSERT OR IGNORE INTO {TABLE} ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)
_SET_COST: Final = f"UPDATE {TABLE} SET cost_usd = ?, cost_source = ? WHERE id = ?"
_DEAD_LETTER: Final = (
    "CREATE TABLE IF NOT EXISTS dead_letter "
    "(id TEXT PRIMARY KEY, failed_at REAL NOT NULL, error TEXT NOT NULL, payload TEXT NOT NULL)"
)
_REFUSALS: Final = (
    OverflowError,
    UnicodeEncodeError,
    sqlite3.IntegrityError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
    sqlite3.DataError,
)
"""What a row itself causes (an integer beyond 64 bits, a failed CHECK): retrying cannot help."""
_COST_SCALE: Final = 10**10
"""Costs are summed as integers of 1e-10 USD: SQLite keeps them as text and has no decimal type."""
_BUCKETS: Final = {
    "day": "substr(created_at, 1, 10)",
    "tool": "tool_name",
    "operation": "operation",
    "model": "model",
}


class SQLiteStore:
    """A `token_usage` table in a local SQLite file, created on first use.

    Args:
        path: the database file; its folder is created if missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._maintenance: sqlite3.Connection | None = None
        self._owner_pid = 0
        self._written_since_flush = 0

    @property
    def name(self) -> str:
        return f"sqlite:{self.path.name}"

    def _connect(self) -> sqlite3.Connection:
        # A forked child must not reuse its parent's connection.
        if self._connection is not None and self._owner_pid == os.getpid():
            return self._connection
        self._maintenance = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        for statement in (*create_statements("sqlite"), _DEAD_LETTER):
            connection.execute(statement)
        self._connection, self._owner_pid = connection, os.getpid()
        return connection

    def append(self, records: Sequence[UsageRecord]) -> None:
        self.append_rows([record_to_row(record) for record in records])

    def append_rows(self, rows: Sequence[Row]) -> None:
        """Insert rows (see `_codec`); ids already stored are ignored.

        A row the table refuses for good goes to the `dead_letter` table with the error, and the
        others are stored: one bad record never holds back the rest.
        """
        values = [row_to_sql_values(row) for row in rows]
        with self._lock:
            connection = self._connect()
            try:
                with connection:
                    connection.execute("BEGIN")
                    connection.executemany(_INSERT, values)
            except _REFUSALS:
                self._insert_one_by_one(connection, rows, values)
            self._written_since_flush += len(values)

    def _insert_one_by_one(
        self, connection: sqlite3.Connection, rows: Sequence[Row], values: Sequence[Row]
    ) -> None:
        refused = 0
        with connection:
            connection.execute("BEGIN")
            for row, row_values in zip(rows, values, strict=True):
                try:
                    connection.execute(_INSERT, row_values)
                except _REFUSALS as error:
                    refused += 1
                    connection.execute(
                        "INSERT OR REPLACE INTO dead_letter (id, failed_at, error, payload) "
                        "VALUES (?, ?, ?, ?)",
                        (
                            str(row[0]),
                            time.time(),
                            f"{type(error).__name__}: {error}",
                            row_to_line(row),
                        ),
                    )
        logger.error(
            "tokentrail: %s refused %d usage record(s) for good; they are kept in its dead_letter "
            "table with the error",
            self.path,
            refused,
        )

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        rows = [(str(cost.cost_usd), cost.cost_source, cost.record_id) for cost in costs]
        with self._lock:
            connection = self._connect()
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(_SET_COST, rows)

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        """Totals for one organization in `[start, end)`, grouped and summed by SQLite.

        Times are compared as UTC ISO 8601 text, the form records are written in.
        """
        if group_by not in _BUCKETS:
            raise ValueError(f"group_by must be one of {', '.join(_BUCKETS)}, not {group_by!r}")
        sums = ", ".join(
            f"sum({column}) AS {column}"
            for column in SUMMARY_COLUMNS
            if column not in {"bucket", "records", "cost_usd", "unpriced_records"}
        )
        query = (
            f"SELECT {_BUCKETS[group_by]} AS bucket, count(*) AS records, {sums}, "
            f"sum(CAST(round(CAST(cost_usd AS REAL) * {_COST_SCALE}) AS INTEGER)) AS cost_usd, "
            "count(*) - count(cost_usd) AS unpriced_records "
            f"FROM {TABLE} WHERE organization_id = ? AND created_at >= ? AND created_at < ? "
            "GROUP BY 1 ORDER BY 1"
        )
        bounds = [moment.astimezone(UTC).isoformat() for moment in (start, end)]
        with self._lock:
            cursor = self._connect().execute(query, [organization_id, *bounds])
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        for row in rows:
            if row["cost_usd"] is not None:
                row["cost_usd"] = Decimal(row["cost_usd"]).scaleb(-10)
        return [SummaryRow.from_mapping(row) for row in rows]

    def maintain(self) -> None:
        """Copy the write-ahead log into the database; called off the caller's path."""
        with self._lock:
            self._connect()
            if self._maintenance is None:
                self._maintenance = sqlite3.connect(
                    self.path, timeout=30, check_same_thread=False, isolation_level=None
                )
            maintenance = self._maintenance
        maintenance.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def flush(self, timeout: float | None = None) -> FlushResult:
        with self._lock:
            delivered, self._written_since_flush = self._written_since_flush, 0
        return FlushResult(delivered=delivered, pending=0)

    def close(self, timeout: float | None = None) -> FlushResult:
        result = self.flush(timeout)
        with self._lock:
            if self._owner_pid == os.getpid():
                for connection in (self._maintenance, self._connection):
                    if connection is not None:
                        connection.close()
            self._connection = self._maintenance = None
        return result
