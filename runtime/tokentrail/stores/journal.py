"""A per-process journal in front of the embedded store: the cheapest write that survives a crash.

A SQLite commit costs the caller 50-150 µs (several pages and locks per transaction). Appending one
JSON line to a file with a single `write` costs a few microseconds, and once `write` returns the
line is in the kernel's page cache: it survives a crash of the process, which is the durability
tokentrail promises. The tracker's background thread then moves journal lines into the SQLite
store in batches and empties the journal.

Each process writes its own file, `<database>.journal/<pid>-<random>.jsonl`, and holds an `flock`
on it for its life. A journal whose lock is free belongs to a process that ended before its lines
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
from collections.abc import Sequence
from pathlib import Path

from tokentrail._record import UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost
from tokentrail.stores._codec import record_from_json, record_to_json
from tokentrail.stores.sqlite import SQLiteStore

logger = logging.getLogger(__name__)

_ADOPT_EVERY_SECONDS = 60.0


class JournaledStore:
    """A `RecordSink`: records go to this process's journal file, then into `store`.

    Args:
        store: the SQLite store the journal drains into.
    """

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self.folder = store.path.with_name(store.path.name + ".journal")
        self._write_lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._descriptor: int | None = None
        self._path: Path | None = None
        self._owner_pid = 0
        self._drained_offset = 0
        self._waiting = 0
        self._moved_since_flush = 0
        self._last_adoption = 0.0

    @property
    def name(self) -> str:
        return self._store.name

    @property
    def path(self) -> Path:
        """The database the journal drains into."""
        return self._store.path

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
        data = "".join(record_to_json(record) + "\n" for record in records).encode()
        with self._write_lock:
            descriptor = self._journal()
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
            self._waiting += len(records)

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
        records = _decode(complete, self._path)
        self._store.append(records)

        with self._write_lock:
            self._drained_offset = start + len(complete)
            self._waiting -= len(records)
            self._moved_since_flush += len(records)
            # Nothing was appended meanwhile: start the file over so it never grows for long.
            if os.fstat(descriptor).st_size == self._drained_offset:
                os.ftruncate(descriptor, 0)
                self._drained_offset = 0
        return len(records)

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
                    records = _decode(file.read(), orphan)
                self._store.append(records)
                orphan.unlink()
            finally:
                os.close(descriptor)
            moved += len(records)
            logger.info("tokentrail: moved %d record(s) left by an ended process", len(records))
        return moved

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        self.drain()  # the records being priced must be in the store first
        self._store.set_costs(costs)

    def maintain(self) -> None:
        """Move the journal into the store, then checkpoint the store (background thread)."""
        self.drain()
        self._store.maintain()

    def flush(self, timeout: float | None = None) -> FlushResult:
        try:
            self.drain()
        except Exception as error:  # noqa: BLE001 - flush reports, it does not raise
            logger.warning(
                "tokentrail: could not move journal records into %s (%s)", self.name, error
            )
        with self._write_lock:
            moved, self._moved_since_flush = self._moved_since_flush, 0
            waiting = self._waiting
        self._store.flush(timeout)
        return FlushResult(delivered=moved, pending=waiting)

    def close(self, timeout: float | None = None) -> FlushResult:
        result = self.flush(timeout)
        with self._write_lock:
            if self._descriptor is not None and self._owner_pid == os.getpid():
                if result.pending == 0 and self._path is not None:
                    with contextlib.suppress(FileNotFoundError):
                        self._path.unlink()
                os.close(self._descriptor)
            self._descriptor = None
        self._store.close(timeout)
        return result


def _decode(data: bytes, path: Path | None) -> list[UsageRecord]:
    records = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(record_from_json(line.decode()))
        except (ValueError, TypeError):
            # Kept in the file's neighbour for inspection; never silently dropped.
            logger.error(
                "tokentrail: unreadable journal line %d in %s kept in %s.bad", number, path, path
            )
            with open(f"{path}.bad", "ab") as bad:
                bad.write(line + b"\n")
    return records
