"""The journal in front of the embedded store: a cheap durable write, moved into SQLite later."""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from tokentrail import UsageRecord
from tokentrail.stores import journal as journal_module
from tokentrail.stores._codec import Row, record_to_json, record_to_row, row_to_line
from tokentrail.stores.journal import JournaledStore, written_lines
from tokentrail.stores.sqlite import SQLiteStore


def stored_models(path: Path) -> list[str]:
    rows = sqlite3.connect(path).execute("SELECT model FROM token_usage ORDER BY model")
    return [model for (model,) in rows]


def journaled(database: Path) -> JournaledStore:
    return JournaledStore(SQLiteStore(database), database.with_name("usage.db.journal"))


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "usage.db"


@pytest.fixture
def journal(database: Path) -> JournaledStore:
    return journaled(database)


def test_records_wait_in_the_journal_until_drained(journal: JournaledStore, database: Path) -> None:
    journal.append([UsageRecord(model="a"), UsageRecord(model="b")])

    [journal_file] = journal.folder.glob("*.jsonl")
    assert len(written_lines(journal_file.read_bytes()).splitlines()) == 2
    assert not database.exists()

    assert journal.drain() == 2
    assert stored_models(database) == ["a", "b"]
    assert written_lines(journal_file.read_bytes()) == b""  # started over once everything moved
    assert journal.flush().delivered == 2


def test_appends_while_draining_are_stored_once(journal: JournaledStore, database: Path) -> None:
    def write(prefix: str) -> None:
        for number in range(200):
            journal.append([UsageRecord(model=f"{prefix}{number:03d}")])

    writers = [threading.Thread(target=write, args=(prefix,)) for prefix in "xyz"]
    for writer in writers:
        writer.start()
    while any(writer.is_alive() for writer in writers):
        journal.drain()
    for writer in writers:
        writer.join()
    result = journal.close()

    models = stored_models(database)
    assert len(models) == len(set(models)) == 600
    assert result.pending == 0


def test_a_journal_left_by_an_ended_process_is_adopted(database: Path) -> None:
    journal = journaled(database)
    journal.folder.mkdir()
    orphan = journal.folder / "12345-deadbeef.jsonl"
    orphan.write_text(record_to_json(UsageRecord(model="orphaned")) + "\n")
    alive = journal.folder / "67890-cafebabe.jsonl"
    alive.write_text(record_to_json(UsageRecord(model="still-running")) + "\n")
    holder = os.open(alive, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        journal.append([UsageRecord(model="own")])
        assert journal.drain() == 2
    finally:
        os.close(holder)

    assert stored_models(database) == ["orphaned", "own"]
    assert not orphan.exists()
    assert alive.exists()


def line(model: str) -> bytes:
    return row_to_line(record_to_row(UsageRecord(model=model))).encode() + b"\n"


def test_a_line_cut_by_a_crash_is_kept_aside_and_the_rest_stored(database: Path) -> None:
    journal = journaled(database)
    journal.folder.mkdir()
    # A process killed while copying its second line, into a journal it had started over:
    # the cut line, then the NUL written before it, then bytes of lines already moved.
    cut = line("cut")[:40]
    orphan = journal.folder / "12345-deadbeef.jsonl"
    orphan.write_bytes(line("good") + cut + b"\0" + line("moved-before") + b"\0" * 100)

    assert journal.drain() == 1

    assert stored_models(database) == ["good"]
    assert Path(f"{orphan}.bad").read_bytes() == cut + b"\n"
    assert not orphan.exists()


def test_the_journal_grows_past_its_mapping_and_shrinks_once_drained(
    journal: JournaledStore, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "_MAPPED_BYTES", 4096)
    journal.append([UsageRecord(model=f"m{number:03d}") for number in range(40)])
    for number in range(40, 100):
        journal.append([UsageRecord(model=f"m{number:03d}")])
    [journal_file] = journal.folder.glob("*.jsonl")
    assert journal_file.stat().st_size > 4096

    assert journal.drain() == 100
    assert stored_models(database) == [f"m{number:03d}" for number in range(100)]
    assert journal_file.stat().st_size == 4096


def test_closing_with_lines_left_keeps_just_the_lines_for_the_next_process(
    database: Path, tmp_path: Path
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    unreachable = SQLiteStore(tmp_path / "not-a-folder" / "usage.db")
    failing = JournaledStore(unreachable, database.with_name("usage.db.journal"))
    failing.append([UsageRecord(model="left")])

    assert failing.close().pending == 1
    [journal_file] = failing.folder.glob("*.jsonl")
    assert b"\0" not in journal_file.read_bytes()

    adopting = journaled(database)
    adopting.append([UsageRecord(model="new")])
    assert adopting.drain() == 2
    assert stored_models(database) == ["left", "new"]


def test_a_disk_without_room_for_the_journal_is_an_error_not_a_crash(
    journal: JournaledStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reserving the file's blocks fails on a full disk; without the reservation the process
    # would die of SIGBUS on its first copy. (The full disk is simulated: no small filesystem
    # can be mounted here.)
    def no_room(descriptor: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_room)
    with pytest.raises(OSError, match="No space"):
        journal.append([UsageRecord(model="a")])
    assert not list(journal.folder.glob("*.jsonl"))


def test_a_store_that_fails_leaves_the_lines_for_the_next_drain(database: Path) -> None:
    store = SQLiteStore(database)
    journal = JournaledStore(store, database.with_name("usage.db.journal"))
    journal.append([UsageRecord(model="kept")])
    original = store.append_rows
    calls = {"count": 0}

    def fail_once(rows: Sequence[Row]) -> None:
        calls["count"] += 1
        if calls["count"] == 1:
            raise sqlite3.OperationalError("database is locked")
        original(rows)

    store.append_rows = fail_once  # type: ignore[method-assign]  # a store failing once

    with pytest.raises(sqlite3.OperationalError):
        journal.drain()
    assert journal.flush().pending == 0
    assert stored_models(database) == ["kept"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_its_own_journal(journal: JournaledStore, database: Path) -> None:
    journal.append([UsageRecord(model="parent")])

    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child process
        try:
            journal.append([UsageRecord(model="child")])
            journal.close()
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    journal.close()

    assert stored_models(database) == ["child", "parent"]


def test_without_posix_fallocate_the_blocks_are_reserved_by_writing_zeros(
    journal: JournaledStore, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "posix_fallocate")  # as on macOS

    journal.append([UsageRecord(model="a")])
    [journal_file] = journal.folder.glob("*.jsonl")
    assert journal_file.stat().st_blocks * 512 >= journal_file.stat().st_size

    assert journal.drain() == 1
    assert stored_models(database) == ["a"]


class BatchRecordingStore(SQLiteStore):
    """The embedded store, preferring batches of two rows and noting the batches it gets."""

    batch_rows = 2

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []

    def append_rows(self, rows: Sequence[Row]) -> None:
        self.batches.append(len(rows))
        super().append_rows(rows)


def test_lines_reach_the_store_in_the_batches_it_prefers(database: Path) -> None:
    store = BatchRecordingStore(database)
    journal = JournaledStore(store, database.with_name("usage.db.journal"))
    journal.folder.mkdir()
    orphan = journal.folder / "12345-deadbeef.jsonl"
    orphan.write_bytes(b"".join(line(f"orphan-{number}") for number in range(5)))
    journal.append([UsageRecord(model=f"own-{number}") for number in range(3)])

    assert journal.drain() == 8

    # Its own lines gather in whole chunks of 64 until there are at least two: one batch of
    # three. The orphan's five are cut to size.
    assert store.batches == [3, 2, 2, 1]
    assert len(stored_models(database)) == 8
