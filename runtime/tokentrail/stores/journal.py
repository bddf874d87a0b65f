"""A per-process journal in front of every store: the cheapest write that survives a crash.

A SQLite commit (the embedded store, or the outbox of a remote store) costs the caller 50-150 µs:
several pages and locks per transaction. Appending one JSON line to a file with a single `write`
costs a few microseconds, and once `write` returns the line is in the kernel's page cache: it
survives a crash of the process, which is the durability tokentrail promises. The tracker's
background thread then moves journal lines into the store behind the journal in batches and
empties the journal.

Each process writes its own file, `<folder>/<pid>-<random>.jsonl`, and holds an `flock` on it for
its life. A journal whose lock is free belongs to a process that ended before its lines
were moved; the next process that opens the same store adopts it. Records carry their id, and the
store ignores ids it already has, so a line moved twice is stored once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tokentrail._record import UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost, RecordSink
from tokentrail.stores._codec import Row, record_from_row, record_to_row, row_from_line, row_to_line
from tokentrail.stores._summary import GroupBy, SummaryRow

logger = logging.getLogger(__name__)

_ADOPT_EVERY_SECONDS = 60.0
_CHUNK_LINES = 64


class _TakesRows(Protocol):
    def append_rows(self, rows: Sequence[Row]) -> None: ...


class JournaledStore:
    """A `RecordSink`: records go to this process's journal file, then into `store`.

    Args:
        store: the sink the journal drains into (the SQLite store, or a remote store's outbox).
        folder: where the journal files live; one folder per store.
    """

    def __init__(self, store: RecordSink, folder: Path) -> None:
        self._store = store
        self.folder = folder
        self._write_lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._descriptor: int | None = None
        self._path: Path | None = None
        self._owner_pid = 0
        self._drained_offset = 0
        self._waiting = 0
        self._last_adoption = 0.0

    @property
    def name(self) -> str:
        return self._store.name

    @property
    def store(self) -> RecordSink:
        """The sink the journal drains into."""
        return self._store

    @property
    def prices_before_delivery(self) -> bool:
        """Whether the store behind the journal prices records itself (see `RecordSink`)."""
        return bool(getattr(self._store, "prices_before_delivery", False))

    def _journal(self) -> int:
        # Called with the write lock held. A forked child opens a journal of its own.
        if self._descriptor is not None and self._owner_pid == os.getpid():
            return self._descriptor
        if self._descriptor is not None:
            os.close(self._descriptor)  # the parent's: closing ours leaves the parent's lock
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._descriptor, self._owner_pid = descriptor, os.getpid()
        self._drained_offset = self._waiting = 0
        return descriptor

    def append(self, records: Sequence[UsageRecord]) -> None:
        self.append_rows([record_to_row(record) for record in records])

    def append_rows(self, rows: Sequence[Row]) -> None:
        """Write `rows` to this process's journal: one `write`, durable once it returns."""
        data = "".join([row_to_line(row) + "\n" for row in rows]).encode()
        with self._write_lock:
            descriptor = self._journal()
            written = os.write(descriptor, data)
            while written < len(data):
                written += os.write(descriptor, data[written:])
            self._waiting += len(rows)

    def drain(self) -> int:
        """Move the journal's lines into the store; returns how many records moved.

        Raises the store's error when it cannot take them; the lines then stay for next time.
        """
        with self._drain_lock:
            moved = self._drain_own()
            if time.monotonic() - self._last_adoption >= _ADOPT_EVERY_SECONDS:
                self._last_adoption = time.monotonic()
                moved += self._adopt_orphans()
            return moved

    def _drain_own(self) -> int:
        with self._write_lock:
            if self._descriptor is None or self._owner_pid != os.getpid():
                return 0
            descriptor, start = self._descriptor, self._drained_offset
            end = os.fstat(descriptor).st_size
        if end <= start:
            return 0

        data = os.pread(descriptor, end - start, start)
        complete = data[: data.rfind(b"\n") + 1]
        moved, offset = 0, start
        for chunk in _chunks(complete, _CHUNK_LINES):
            rows, lines = _decode(chunk, self._path)
            self._store_rows(rows)
            moved, offset = moved + len(rows), offset + len(chunk)
            with self._write_lock:
                self._drained_offset = offset
                self._waiting -= lines
            # Small steps, each followed by a pause: a caller waiting for the interpreter gets it
            # within one step, instead of after CPython's 5 ms switch interval.
            time.sleep(0)

        with self._write_lock:
            # Nothing was appended meanwhile: start the file over so it never grows for long.
            if os.fstat(descriptor).st_size == self._drained_offset:
                os.ftruncate(descriptor, 0)
                self._drained_offset = 0
        return moved

    def _store_rows(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        store: RecordSink | _TakesRows = self._store
        if hasattr(store, "append_rows"):
            store.append_rows(rows)
        else:
            self._store.append([record_from_row(row) for row in rows])

    def _adopt_orphans(self) -> int:
        moved = 0
        for orphan in sorted(self.folder.glob("*.jsonl")):
            if orphan == self._path:
                continue
            try:
                descriptor = os.open(orphan, os.O_RDWR)
            except FileNotFoundError:
                continue  # adopted by another process a moment ago
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue  # its process is alive
            try:
                with os.fdopen(descriptor, "rb", closefd=False) as file:
                    rows, _ = _decode(file.read(), orphan)
                self._store_rows(rows)
                orphan.unlink()
            finally:
                os.close(descriptor)
            moved += len(rows)
            logger.info("tokentrail: moved %d record(s) left by an ended process", len(rows))
        return moved

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        self.drain()  # the records being priced must be in the store first
        self._store.set_costs(costs)

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        """The store's totals, once this process's journal lines are in it.

        Raises:
            TypeError: the store behind the journal cannot sum its records.
        """
        summary = getattr(self._store, "summary", None)
        if summary is None:
            raise TypeError(f"the store {self.name} does not offer summaries")
        self.drain()
        rows: list[SummaryRow] = summary(organization_id, start, end, group_by)
        return rows

    def maintain(self) -> None:
        """Move the journal into the store, then let the store tidy up (background thread)."""
        self.drain()
        maintain = getattr(self._store, "maintain", None)
        if maintain is not None:
            maintain()

    def flush(self, timeout: float | None = None) -> FlushResult:
        try:
            self.drain()
        except Exception as error:  # noqa: BLE001 - flush reports, it does not raise
            logger.warning(
                "tokentrail: could not move journal records into %s (%s)", self.name, error
            )
        with self._write_lock:
            waiting = self._waiting
        result = self._store.flush(timeout)
        return FlushResult(delivered=result.delivered, pending=result.pending + waiting)

    def close(self, timeout: float | None = None) -> FlushResult:
        try:
            self.drain()
        except Exception as error:  # noqa: BLE001 - the lines stay for the next process
            logger.warning(
                "tokentrail: could not move journal records into %s (%s)", self.name, error
            )
        with self._write_lock:
            waiting = self._waiting
            if self._descriptor is not None and self._owner_pid == os.getpid():
                if waiting == 0 and self._path is not None:
                    with contextlib.suppress(FileNotFoundError):
                        self._path.unlink()
                os.close(self._descriptor)
            self._descriptor = None
        result = self._store.close(timeout)
        return FlushResult(delivered=result.delivered, pending=result.pending + waiting)


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    """`data` in pieces of at most `size` whole lines."""
    lines = data.splitlines(keepends=True)
    for first in range(0, len(lines), size):
        yield b"".join(lines[first : first + size])


def _decode(data: bytes, path: Path | None) -> tuple[list[Row], int]:
    """The rows in `data`, and how many lines held a record (readable or not)."""
    rows = []
    lines = 0
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        lines += 1
        try:
            rows.append(row_from_line(line))
        except (ValueError, TypeError):
            # Kept in the file's neighbour for inspection; never silently dropped.
            logger.error(
                "tokentrail: unreadable journal line %d in %s kept in %s.bad", number, path, path
            )
            with open(f"{path}.bad", "ab") as bad:
                bad.write(line + b"\n")
    return rows, lines
