"""The outbox's storage: one SQLite file per process, locked while the process lives.

The file is in WAL mode with `synchronous=NORMAL`: a committed append survives the process
being killed (not the machine losing power), and costs a write into the WAL, no fsync. Each file
has a lock file beside it, held with `flock` for the life of the process that owns it; when that
process dies the kernel releases the lock, and any process of the same store adopts the file by
copying its rows into its own outbox and deleting it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tokentrail.stores.schema import OUTBOX_STATEMENTS

logger = logging.getLogger(__name__)

SUFFIX = ".outbox"
LOCK_SUFFIX = ".lock"


_DELETE_CHUNK = 100
"""Rows deleted per transaction, so that a caller's append never waits behind a long delete."""


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A record waiting in the outbox: its place in line, id, arrival time and JSON payload."""

    seq: int
    id: str
    enqueued_at: float
    payload: str


def default_outbox_root() -> Path:
    """`TOKENTRAIL_OUTBOX_DIR`, else `$XDG_STATE_HOME/tokentrail/outbox` (`~/.local/state/...`)."""
    configured = os.environ.get("TOKENTRAIL_OUTBOX_DIR")
    if configured:
        return Path(configured).expanduser()
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "tokentrail" / "outbox"


def _connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    for statement in OUTBOX_STATEMENTS:
        connection.execute(statement)
    return connection


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive lock on `path`, or None if someone holds it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor


def lock_is_held(path: Path) -> bool:
    """True when a running process holds the lock file `path`."""
    if not path.exists():
        return False
    descriptor = _try_lock(path)
    if descriptor is None:
        return True
    os.close(descriptor)
    return False


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


class OutboxFile:
    """The rows one process keeps for one store; thread-safe (one connection, one lock).

    Args:
        folder: the store's outbox folder, or None to keep rows in memory only (they are then
            lost when the process ends).
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._lock_descriptor: int | None = None
        self._mutex = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[tuple[str, float, str]] = []
        self._queued = 0
        self._committed = 0
        if folder is None:
            self._connection = _connect(":memory:")
            self._reader: sqlite3.Connection | None = None
            return
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        # Lock first, create the database second: another process only looks at database files,
        # so it never sees this one without its lock held.
        self._lock_descriptor = _try_lock(folder / f"{stem}{LOCK_SUFFIX}")
        self.path = folder / f"{stem}{SUFFIX}"
        self._connection = _connect(str(self.path))
        # The sender reads batches through its own connection: in WAL mode a reader never
        # blocks the callers' appends, nor they it.
        self._reader = _connect(str(self.path))

    @property
    def in_memory(self) -> bool:
        """True when rows live only in this process's memory."""
        return self.path is None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def append(self, entries: Sequence[tuple[str, str]]) -> None:
        """Commit `(id, payload)` pairs; return only once they are committed.

        Group commit: callers queue their rows, and whoever holds the write lock next commits
        every queued row in one transaction, so callers arriving together share one commit
        instead of waiting for one each. A caller whose rows someone else committed returns
        without writing.
        """
        now = time.time()
        mine = [(record_id, now, payload) for record_id, payload in entries]
        with self._queue_lock:
            self._queue.extend(mine)
            self._queued += len(mine)
            ticket = self._queued
        with self._mutex:
            if self._committed >= ticket:
                return
            with self._queue_lock:
                rows, self._queue = self._queue, []
                covered = self._queued
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                self._connection.executemany(
                    "INSERT INTO pending (id, enqueued_at, payload) VALUES (?, ?, ?)", rows
                )
                self._connection.execute("COMMIT")
            except BaseException:
                self._give_back(rows, mine)
                raise
            self._committed = covered

    def _give_back(
        self, rows: list[tuple[str, float, str]], mine: list[tuple[str, float, str]]
    ) -> None:
        """After a failed commit: other callers' rows wait for their next committer; ours go.

        Our caller gets the exception and keeps its records itself, so they must not be
        committed behind its back as well.
        """
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")
        own = {id(row) for row in mine}
        with self._queue_lock:
            self._queue[:0] = [row for row in rows if id(row) not in own]

    def oldest(self, limit: int) -> list[PendingEntry]:
        """Up to `limit` waiting entries, oldest first (called by the sender thread only)."""
        query = "SELECT seq, id, enqueued_at, payload FROM pending ORDER BY seq LIMIT ?"
        if self._reader is not None:
            rows = self._reader.execute(query, (limit,)).fetchall()
        else:
            with self._mutex:
                rows = self._connection.execute(query, (limit,)).fetchall()
        return [PendingEntry(*row) for row in rows]

    def remove(self, entries: Sequence[PendingEntry]) -> None:
        """Forget entries the store confirmed, given in line order.

        A batch is a run of consecutive entries (new ones only ever join at the end of the
        line), so each chunk is deleted as one range of `seq`.
        """
        for start in range(0, len(entries), _DELETE_CHUNK):
            chunk = entries[start : start + _DELETE_CHUNK]
            with self._transaction() as connection:
                connection.execute(
                    "DELETE FROM pending WHERE seq BETWEEN ? AND ?", (chunk[0].seq, chunk[-1].seq)
                )

    def dead_letter(self, entry: PendingEntry, error: str) -> None:
        """Move one entry the store refused for good to the dead-letter table, with the error."""
        with self._transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO dead_letter (id, failed_at, error, payload) "
                "VALUES (?, ?, ?, ?)",
                (entry.id, time.time(), error, entry.payload),
            )
            connection.execute("DELETE FROM pending WHERE seq = ?", (entry.seq,))

    def has_pending(self) -> bool:
        """True while any entry waits (cheaper than `counts`)."""
        with self._mutex:
            row = self._connection.execute("SELECT EXISTS (SELECT 1 FROM pending)").fetchone()
        return bool(row[0])

    def counts(self) -> tuple[int, int, float | None]:
        """Entries waiting, entries dead-lettered, and when the oldest waiting one arrived."""
        with self._mutex:
            waiting, oldest = self._connection.execute(
                "SELECT count(*), min(enqueued_at) FROM pending"
            ).fetchone()
            dead = self._connection.execute("SELECT count(*) FROM dead_letter").fetchone()[0]
        return int(waiting), int(dead), oldest

    def adopt_orphans(self) -> int:
        """Take over the rows of outbox files in this folder whose owner has died.

        Returns the number of waiting entries taken over. A file is adopted only while its lock
        is held here, and deleted only after its rows are committed into this outbox, so a crash
        during adoption leaves every row in at least one file (the store's key keeps a row that
        is sent twice single).
        """
        if self.folder is None or self.path is None:
            return 0
        adopted = 0
        for candidate in sorted(self.folder.glob(f"*{SUFFIX}")):
            if candidate == self.path:
                continue
            descriptor = _try_lock(candidate.with_suffix(LOCK_SUFFIX))
            if descriptor is None:
                continue
            try:
                if candidate.exists():
                    adopted += self._copy_from(candidate)
                    _remove_database(candidate)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(candidate.with_suffix(LOCK_SUFFIX))
            finally:
                os.close(descriptor)
        return adopted

    def _copy_from(self, orphan: Path) -> int:
        # Opening the orphan on its own first replays its WAL into it, as SQLite does for any
        # file left behind by a killed process.
        _connect(str(orphan)).close()
        with self._mutex:
            self._connection.execute("ATTACH DATABASE ? AS orphan", (str(orphan),))
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                cursor = self._connection.execute(
                    "INSERT INTO main.pending (id, enqueued_at, payload) "
                    "SELECT id, enqueued_at, payload FROM orphan.pending ORDER BY seq"
                )
                adopted = cursor.rowcount
                self._connection.execute(
                    "INSERT OR IGNORE INTO main.dead_letter SELECT * FROM orphan.dead_letter"
                )
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            finally:
                self._connection.execute("DETACH DATABASE orphan")
        if adopted:
            logger.info("adopted %d undelivered records from %s", adopted, orphan.name)
        return adopted

    def close(self) -> None:
        """Close the file; delete it when nothing waits and nothing is dead-lettered."""
        waiting, dead, _ = self.counts()
        with self._mutex:
            self._connection.close()
            if self._reader is not None:
                self._reader.close()
        if self.path is not None and waiting == 0 and dead == 0:
            _remove_database(self.path)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path.with_suffix(LOCK_SUFFIX))
        if self._lock_descriptor is not None:
            os.close(self._lock_descriptor)
            self._lock_descriptor = None
