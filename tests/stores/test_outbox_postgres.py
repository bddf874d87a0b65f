"""The outbox in front of a real PostgreSQL: outages, poisoned rows, crashes, two processes.

Every test ends by counting: each record handed over is in the table exactly once, or in the
dead-letter table.
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest
from tests.postgres_server import PostgresServer

from tokentrail._record import UsageRecord
from tokentrail.stores import schema
from tokentrail.stores._codec import Row
from tokentrail.stores._errors import DeliveryError, FailureKind
from tokentrail.stores._sender import SenderSettings
from tokentrail.stores.outbox import Outbox
from tokentrail.stores.postgres import PostgresStore

pytestmark = pytest.mark.postgres

FAST = SenderSettings(max_batch_age=0.02, initial_backoff=0.02, max_backoff=0.2, batch_size=50)
WRITER = Path(__file__).parent / "fixtures" / "outbox_writer.py"


def _create_table(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)


def _stored_ids(url: str) -> list[str]:
    with psycopg.connect(url) as connection:
        return [row[0] for row in connection.execute("SELECT id::text FROM token_usage")]


def test_delivers_in_the_background_and_removes_its_file(
    postgres_url: str, outbox_dir: Path
) -> None:
    _create_table(postgres_url)
    records = [UsageRecord(model=f"m{i}") for i in range(120)]
    outbox = Outbox(PostgresStore(postgres_url), settings=FAST)
    assert outbox.path is not None
    assert outbox.path.parent == outbox_dir / outbox.name

    outbox.append(records[:60])
    outbox.append(records[60:])
    result = outbox.close(10)

    assert sorted(_stored_ids(postgres_url)) == sorted(record.id for record in records)
    assert result.pending == 0
    assert not list((outbox_dir / outbox.name).iterdir())
    assert outbox.flush().pending == 0


def test_nothing_lost_or_doubled_across_a_server_restart(
    postgres_server: PostgresServer, postgres_url: str, outbox_dir: Path
) -> None:
    _create_table(postgres_url)
    outbox = Outbox(PostgresStore(postgres_url, connect_timeout=1), settings=FAST)
    handed_over: list[str] = []
    lock = threading.Lock()

    def caller(count: int) -> None:
        for _ in range(count):
            record = UsageRecord(model="m")
            outbox.append([record])
            with lock:
                handed_over.append(record.id)

    threads = [threading.Thread(target=caller, args=(300,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    postgres_server.stop("immediate")
    try:
        during_outage = outbox.flush(0.3)
    finally:
        postgres_server.start()
    for thread in threads:
        thread.join()
    result = outbox.close(30)

    assert during_outage.pending > 0
    assert result.pending == 0
    stored = _stored_ids(postgres_url)
    assert len(stored) == len(set(stored)) == 1200
    assert set(stored) == set(handed_over)


@pytest.mark.parametrize("direct_delivery", [False, True], ids=["outbox", "direct"])
def test_a_poisoned_record_goes_to_the_dead_letter_table_alone(
    postgres_url: str, outbox_dir: Path, caplog: pytest.LogCaptureFixture, direct_delivery: bool
) -> None:
    _create_table(postgres_url)
    poisoned = UsageRecord(model="bad", output_tokens=-5)
    records = [UsageRecord(model=f"m{i}") for i in range(20)]
    outbox = Outbox(PostgresStore(postgres_url), settings=FAST, direct_delivery=direct_delivery)
    assert outbox.path is not None

    with caplog.at_level(logging.WARNING):
        outbox.append([*records[:7], poisoned, *records[7:]])
        result = outbox.flush(10)
    path = outbox.path
    outbox.close(1)

    assert result == result.__class__(delivered=20, pending=0)
    assert sorted(_stored_ids(postgres_url)) == sorted(record.id for record in records)
    assert path.exists(), "a file with dead letters is kept"
    with sqlite3.connect(path) as connection:
        dead = connection.execute("SELECT id, error FROM dead_letter").fetchall()
    assert [row[0] for row in dead] == [poisoned.id]
    assert "23514" in dead[0][1] or "check constraint" in dead[0][1]
    assert any(poisoned.id in entry.getMessage() for entry in caplog.records)


class LosesTheFirstReplies(PostgresStore):
    """Commits, then reports a network failure twice: replies lost after the commit.

    The first is the outbox's direct delivery (rows), the second the sender's first attempt
    (payloads).
    """

    lost = 0

    def write_rows(self, rows: Sequence[Row]) -> None:
        super().write_rows(rows)
        self._lose_the_reply()

    def write_payloads(self, payloads: Sequence[str]) -> None:
        super().write_payloads(payloads)
        self._lose_the_reply()

    def _lose_the_reply(self) -> None:
        if self.lost < 2:
            self.lost += 1
            raise DeliveryError("connection reset after commit", FailureKind.TRANSIENT)


def test_a_reply_lost_after_commit_does_not_double_the_batch(
    postgres_url: str, outbox_dir: Path
) -> None:
    _create_table(postgres_url)
    records = [UsageRecord(model=f"m{i}") for i in range(30)]
    store = LosesTheFirstReplies(postgres_url)
    outbox = Outbox(store, settings=FAST, direct_delivery=True)

    outbox.append(records)
    first = outbox.flush()
    second = outbox.flush(10)
    outbox.close(1)

    assert store.lost == 2
    assert first.delivered == 0
    assert second == second.__class__(delivered=30, pending=0)
    assert sorted(_stored_ids(postgres_url)) == sorted(record.id for record in records)


def test_a_slow_server_is_waited_out(postgres_url: str, outbox_dir: Path) -> None:
    _create_table(postgres_url)
    blocker = psycopg.connect(postgres_url)
    blocker.execute("LOCK TABLE token_usage IN ACCESS EXCLUSIVE MODE")
    outbox = Outbox(PostgresStore(postgres_url, statement_timeout=0.2), settings=FAST)
    record = UsageRecord()

    outbox.append([record])
    while_locked = outbox.flush()
    blocker.rollback()
    blocker.close()
    after = outbox.close(10)

    assert while_locked == while_locked.__class__(delivered=0, pending=1)
    assert after.delivered == 1
    assert _stored_ids(postgres_url) == [record.id]


def test_an_unreachable_store_is_reported_with_count_and_age(
    outbox_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresStore("postgresql://u:hidden@127.0.0.1:1/db", connect_timeout=1)
    outbox = Outbox(store, settings=FAST)

    with caplog.at_level(logging.WARNING):
        outbox.append([UsageRecord(), UsageRecord()])
        result = outbox.flush()
        outbox.close(0.1)

    assert result.pending == 2
    warnings = [entry.getMessage() for entry in caplog.records]
    assert any("2 records waiting" in message for message in warnings)
    assert any("stay in" in message for message in warnings)
    assert not any("hidden" in message for message in warnings)


def _writer(url: str, folder: Path, count: int, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, str(folder), str(count), mode],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_killed_process_records_are_adopted_and_delivered(
    postgres_url: str, outbox_dir: Path
) -> None:
    _create_table(postgres_url)
    folder = outbox_dir / "shared"
    writer = _writer(postgres_url, folder, 40, "die-before-delivery")
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "appended"
    writer.send_signal(signal.SIGKILL)
    writer.communicate(timeout=10)

    outbox = Outbox(PostgresStore(postgres_url), folder=folder, settings=FAST)
    result = outbox.close(10)

    assert result.pending == 0
    stored = _stored_ids(postgres_url)
    assert len(stored) == len(set(stored)) == 40
    assert not list(folder.iterdir())


def test_killed_between_store_commit_and_outbox_delete(postgres_url: str, outbox_dir: Path) -> None:
    _create_table(postgres_url)
    folder = outbox_dir / "shared"
    writer = _writer(postgres_url, folder, 25, "die-after-store-commit")
    writer.communicate(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    assert len(_stored_ids(postgres_url)) == 25

    outbox = Outbox(PostgresStore(postgres_url), folder=folder, settings=FAST)
    result = outbox.close(10)

    assert result.pending == 0
    stored = _stored_ids(postgres_url)
    assert len(stored) == len(set(stored)) == 25


def test_two_processes_share_one_store(postgres_url: str, outbox_dir: Path) -> None:
    _create_table(postgres_url)
    folder = outbox_dir / "shared"
    writers = [_writer(postgres_url, folder, 200, "deliver") for _ in range(2)]
    outputs = [writer.communicate(timeout=60)[0] for writer in writers]

    assert all(writer.returncode == 0 for writer in writers), outputs
    assert all("pending=0" in output for output in outputs)
    stored = _stored_ids(postgres_url)
    assert len(stored) == len(set(stored)) == 400


def test_an_unwritable_folder_falls_back_to_memory(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _create_table(postgres_url)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")

    with caplog.at_level(logging.WARNING):
        outbox = Outbox(PostgresStore(postgres_url), folder=not_a_folder / "outbox", settings=FAST)
    outbox.append([UsageRecord()])
    result = outbox.close(10)

    assert outbox.path is None
    assert result.pending == 0
    assert len(_stored_ids(postgres_url)) == 1
    assert any("kept in memory" in entry.getMessage() for entry in caplog.records)


def test_a_forked_child_gets_its_own_outbox_and_connection(
    postgres_url: str, outbox_dir: Path
) -> None:
    _create_table(postgres_url)
    outbox = Outbox(PostgresStore(postgres_url), settings=FAST)
    outbox.append([UsageRecord(model="parent, before")])
    assert outbox.flush(10).pending == 0
    parent_file = outbox.path

    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a threaded process can deadlock; this test forks on
        # purpose, as preforking servers do.
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:
        code = 1
        try:
            outbox.append([UsageRecord(model="child") for _ in range(5)])
            result = outbox.close(10)
            code = 0 if result.pending == 0 and outbox.path != parent_file else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    outbox.append([UsageRecord(model="parent, after")])
    result = outbox.close(10)

    assert os.waitstatus_to_exitcode(status) == 0
    assert result.pending == 0
    with psycopg.connect(postgres_url) as connection:
        models = connection.execute("SELECT model, count(*) FROM token_usage GROUP BY 1").fetchall()
    assert sorted(models) == [("child", 5), ("parent, after", 1), ("parent, before", 1)]
