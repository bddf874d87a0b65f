"""The journal in front of the embedded store: a cheap durable write, moved into SQLite later."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from tokentrail import UsageRecord
from tokentrail.stores._codec import Row, record_to_json
from tokentrail.stores.journal import JournaledStore
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
    assert len(journal_file.read_bytes().splitlines()) == 2
    assert not database.exists()

    assert journal.drain() == 2
    assert stored_models(database) == ["a", "b"]
    assert journal_file.read_bytes() == b""  # emptied once everything moved
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


def test_an_unreadable_line_is_kept_aside_and_the_rest_stored(
    journal: JournaledStore, database: Path
) -> None:
    journal.append([UsageRecord(model="good")])
    [journal_file] = journal.folder.glob("*.jsonl")
    with journal_file.open("ab") as file:
        file.write(b"{not json\n")
    journal.append([UsageRecord(model="also-good")])

    journal.drain()

    assert stored_models(database) == ["also-good", "good"]
    assert Path(f"{journal_file}.bad").read_bytes() == b"{not json\n"


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
