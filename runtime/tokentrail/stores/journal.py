"""A per-process journal in front of every store: the cheapest write that survives a crash.

A SQLite commit (the embedded store, or the outbox of a remote store) costs the caller 50-150 µs:
several pages and locks per transaction. Even one `write` system call costs the caller more than
its own few microseconds: CPython lets other threads run during it, and taking the interpreter
back can wait for one of them. So the journal is a file mapped into the process's memory
(`mmap`, shared with the file): appending a record is a copy of one JSON line into the mapping,
with no system call. Once copied, the line is in the kernel's page cache, exactly as after a
`write`: it survives a crash of the process, which is the durability tokentrail promises, and not
a crash of the machine. The tracker's background thread then moves journal lines into the store
behind the journal in batches and starts the journal over.

Each process writes its own file, `<folder>/<pid>-<random>.jsonl`, and holds an `flock` on it for
its life. The file's lines end at the first NUL byte: every append writes the NUL after its line
before the line itself, so a crash in the middle of a copy leaves at most that one line
incomplete. A journal whose lock is free belongs to a process that ended before its lines were
moved; the next process that opens the same store adopts it. Records carry their id, and the
store ignores ids it already has, so a line moved twice is stored once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import mmap
import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from tokentrail._process import generation
from tokentrail._record import UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost, RecordSink
from tokentrail.stores._codec import (
    Row,
    record_from_row,
    record_to_row,
    row_from_line,
    row_to_line,
    rows_from_lines,
)
from tokentrail.stores._summary import GroupBy, SummaryRow

logger = logging.getLogger(__name__)

_ADOPT_EVERY_SECONDS = 60.0
_CHUNK_LINES = 64
_MAPPED_BYTES = 1 << 20
"""The journal's size to begin with, about 2,500 records; it doubles when full."""


class _TakesRows(Protocol):
    def append_rows(self, rows: Sequence[Row]) -> None: ...


class _JournalFile:
    """This process's journal file, mapped into memory, and how far it is written."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self.generation = generation()
        self.end = 0
        self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._memory = self._map(_MAPPED_BYTES)
        except BaseException:
            os.close(self._descriptor)
            self.path.unlink()
            raise

    def _map(self, size: int) -> mmap.mmap:
        # Blocks are reserved up front: a full disk fails here, with an error the tracker handles,
        # instead of killing the process with SIGBUS when a copy touches an unbacked page.
        os.ftruncate(self._descriptor, size)
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(self._descriptor, 0, size)
        else:  # macOS: writing the zeros reserves the blocks just the same
            os.pwrite(self._descriptor, bytes(size), 0)
        return mmap.mmap(self._descriptor, size)

    def append(self, data: bytes) -> None:
        """Copy `data` (whole lines) after the last line; durable once it returns."""
        end = self.end + len(data)
        if end >= len(self._memory):
            self._remap(max(2 * len(self._memory), end + 1))
        self._memory[end] = 0
        self._memory[self.end : end] = data
        self.end = end

    def read(self, start: int) -> bytes:
        """The lines written after `start`, copied out of the mapping."""
        return self._memory[start : self.end]

    def start_over(self) -> None:
        """Forget every line (all are in the store); give back memory the file grew by."""
        self._memory[0] = 0
        self.end = 0
        if len(self._memory) > _MAPPED_BYTES:
            self._remap(_MAPPED_BYTES)

    def _remap(self, size: int) -> None:
        self._memory.close()
        self._memory = self._map(size)

    def close(self, *, remove: bool) -> None:
        """Unmap and release the lock; keep the file cut to its lines unless `remove`."""
        self._memory.close()
        if remove:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        else:
            os.ftruncate(self._descriptor, self.end)
        os.close(self._descriptor)

    def abandon(self) -> None:
        """In a forked child: drop the parent's mapping and descriptor, leaving its lock alone."""
        self._memory.close()
        os.close(self._descriptor)


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
        self._file: _JournalFile | None = None
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

    def _journal(self) -> _JournalFile:
        # Called with the write lock held. A forked child opens a journal of its own.
        if self._file is not None and self._file.generation == generation():
            return self._file
        if self._file is not None:
            self._file.abandon()
            self._file = None
        self._file = _JournalFile(self.folder)
        self._drained_offset = self._waiting = 0
        return self._file

    def _own_file(self) -> _JournalFile | None:
        """This process's journal, if it has one (called with the write lock held)."""
        if self._file is None or self._file.generation != generation():
            return None
        return self._file

    def append(self, records: Sequence[UsageRecord]) -> None:
        self.append_rows([record_to_row(record) for record in records])

    def append_rows(self, rows: Sequence[Row]) -> None:
        """Copy `rows` into this process's journal: durable once it returns."""
        data = "".join([row_to_line(row) + "\n" for row in rows]).encode()
        with self._write_lock:
            self._journal().append(data)
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
            journal = self._own_file()
            if journal is None:
                return 0
            start = self._drained_offset
            data = journal.read(start)
        if not data:
            return 0

        complete = data[: data.rfind(b"\n") + 1]
        batch_rows = self._batch_rows()
        moved, offset = 0, start
        rows: list[Row] = []
        lines = length = 0
        for chunk in _chunks(complete, _CHUNK_LINES):
            chunk_rows, chunk_lines = _decode(chunk, journal.path)
            rows += chunk_rows
            lines, length = lines + chunk_lines, length + len(chunk)
            if len(rows) >= batch_rows or offset + length == start + len(complete):
                self._store_rows(rows)
                moved, offset = moved + len(rows), offset + length
                with self._write_lock:
                    self._drained_offset = offset
                    self._waiting -= lines
                rows, lines, length = [], 0, 0
            # Small steps, each followed by a pause: a caller waiting for the interpreter gets it
            # within one step, instead of after CPython's 5 ms switch interval.
            time.sleep(0)

        with self._write_lock:
            # Nothing was appended meanwhile: start the file over so it never grows for long.
            if journal.end == self._drained_offset:
                journal.start_over()
                self._drained_offset = 0
        return moved

    def _batch_rows(self) -> int:
        """How many rows to hand the store at once: as many as it prefers, else one chunk.

        This process's lines gather in whole chunks until there are at least that many, so a
        batch of them may hold up to a chunk more.
        """
        preferred = getattr(self._store, "batch_rows", None)
        return preferred if isinstance(preferred, int) else _CHUNK_LINES

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
            if self._file is not None and orphan == self._file.path:
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
                    rows, _ = _decode(written_lines(file.read()), orphan)
                batch_rows = self._batch_rows()
                for first in range(0, len(rows), batch_rows):
                    self._store_rows(rows[first : first + batch_rows])
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
            journal = self._own_file()
            if journal is not None:
                journal.close(remove=waiting == 0)
            self._file = None
        result = self._store.close(timeout)
        return FlushResult(delivered=result.delivered, pending=result.pending + waiting)


def written_lines(data: bytes) -> bytes:
    """The part of a journal file's bytes that holds lines: everything before the first NUL.

    Files written by older versions hold no NUL: all of their bytes are lines.
    """
    end = data.find(b"\0")
    return data if end < 0 else data[:end]


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    """`data` in pieces of at most `size` whole lines."""
    lines = data.splitlines(keepends=True)
    for first in range(0, len(lines), size):
        yield b"".join(lines[first : first + size])


def _decode(data: bytes, path: Path | None) -> tuple[list[Row], int]:
    """The rows in `data`, and how many lines held a record (readable or not)."""
    with_records = [line for line in data.splitlines() if line.strip()]
    try:
        return rows_from_lines(with_records), len(with_records)
    except (ValueError, TypeError):
        pass  # some line is unreadable (or from an older version): one by one, below
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
