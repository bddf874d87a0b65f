"""The embedded store: a SQLite file written on the caller's thread, no outbox in front of it.

A tracked call waits only for this local write. The database runs in WAL mode with
`synchronous=NORMAL`: a committed record survives a crash of the process (not of the machine),
and many threads and processes can write the same file. Checkpoints, which copy the write-ahead
log into the database and wait for the disk, are taken off the caller's path: `maintain()` runs
them from the tracker's background thread on a connection of its own.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from tokentrail._record import COLUMNS, UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost
from tokentrail.stores.schema import TABLE, create_statements

_INSERT: Final = (
    f"INSERT OR IGNORE INTO {TABLE} ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)
_SET_COST: Final = f"UPDATE {TABLE} SET cost_usd = ?, cost_source = ? WHERE id = ?"


def record_row(record: UsageRecord) -> tuple[Any, ...]:
    """`record` as SQLite values, in column order (decimals and JSON as text)."""
    values: list[Any] = []
    for column in COLUMNS:
        value = getattr(record, column)
        if column == "created_at":
            value = value.isoformat()
        elif column == "cost_usd" and value is not None:
            value = str(value)
        elif column == "request_metadata" and value is not None:
            value = json.dumps(value, sort_keys=True, default=str)
        values.append(value)
    return tuple(values)


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
        for statement in create_statements("sqlite"):
            connection.execute(statement)
        self._connection, self._owner_pid = connection, os.getpid()
        return connection

    def append(self, records: Sequence[UsageRecord]) -> None:
        rows = [record_row(record) for record in records]
        with self._lock:
            connection = self._connect()
            with connection:
                connection.execute("BEGIN")
                connection.executemany(_INSERT, rows)
            self._written_since_flush += len(rows)

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        rows = [(str(cost.cost_usd), cost.cost_source, cost.record_id) for cost in costs]
        with self._lock:
            connection = self._connect()
            with connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(_SET_COST, rows)

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
