"""The outbox and its sender with an in-process store, for what no server can be made to do."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tokentrail._record import UsageRecord
from tokentrail.stores._base import PricedCost
from tokentrail.stores._codec import record_from_json, record_to_json
from tokentrail.stores._errors import DeliveryError, FailureKind
from tokentrail.stores._outbox_file import OutboxFile, default_outbox_root
from tokentrail.stores._sender import SenderSettings
from tokentrail.stores._summary import GroupBy, SummaryRow
from tokentrail.stores.outbox import Outbox, default_pricer

FAST = SenderSettings(max_batch_age=0.01, initial_backoff=0.01, max_backoff=0.05, batch_size=10)


class ListStore:
    """Keeps what it is sent; `failures` are raised first, one per write."""

    name = "list-store"

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.batches: list[list[UsageRecord]] = []
        self.closed = False

    def write_payloads(self, payloads: Sequence[str]) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.batches.append([record_from_json(payload) for payload in payloads])

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        return [SummaryRow.from_mapping({"bucket": organization_id, "records": len(self.records)})]

    def close(self) -> None:
        self.closed = True

    @property
    def records(self) -> list[UsageRecord]:
        return [record for batch in self.batches for record in batch]


def test_records_round_trip_through_the_payload() -> None:
    record = UsageRecord(
        cost_usd=Decimal("0.000000123"), request_metadata={"path": Path("/x"), "n": 1}
    )

    again = record_from_json(record_to_json(record))

    assert again == dataclasses.replace(
        record, request_metadata={"path": "PosixPath('/x')", "n": 1}
    )
    assert record_from_json(json.dumps({"model": "m", "column_from_the_future": 1})).model == "m"


@pytest.mark.parametrize("direct_delivery", [False, True], ids=["outbox", "direct"])
def test_records_without_a_cost_are_priced_just_before_delivery(
    tmp_path: Path, direct_delivery: bool
) -> None:
    store = ListStore()

    def pricer(record: UsageRecord) -> UsageRecord:
        if record.model == "unknown-model":
            return record
        if record.model == "broken":
            raise RuntimeError("price table unreadable")
        return dataclasses.replace(record, cost_usd=Decimal("0.5"), cost_source="genai-prices")

    outbox = Outbox(
        store, folder=tmp_path, settings=FAST, pricer=pricer, direct_delivery=direct_delivery
    )
    priced_already = UsageRecord(model="a", cost_usd=Decimal("1"), cost_source="pydantic-ai")
    outbox.append(
        [UsageRecord(model="b"), priced_already, UsageRecord(model="unknown-model"),
         UsageRecord(model="broken")]
    )  # fmt: skip
    outbox.set_costs([PricedCost(priced_already.id, Decimal("9"), "override")])
    outbox.close(5)

    costs = {record.model: (record.cost_usd, record.cost_source) for record in store.records}
    assert costs == {
        "b": (Decimal("0.5"), "genai-prices"),
        "a": (Decimal("1"), "pydantic-ai"),
        "unknown-model": (None, "none"),
        "broken": (None, "none"),
    }
    assert store.closed


def test_the_default_pricer_is_the_runtime_one() -> None:
    from tokentrail._pricing import price_record

    assert default_pricer() is price_record


def test_an_unexpected_store_error_keeps_the_records(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ListStore(RuntimeError("bug in a store"))
    outbox = Outbox(store, folder=tmp_path, settings=FAST)

    with caplog.at_level(logging.WARNING):
        outbox.append([UsageRecord()])
        result = outbox.close(5)

    assert result.pending == 0
    assert len(store.records) == 1
    assert "unexpected error while delivering" in caplog.text


def test_a_store_that_keeps_up_gets_records_at_once_without_the_outbox(tmp_path: Path) -> None:
    store = ListStore()
    outbox = Outbox(store, folder=tmp_path, settings=FAST, direct_delivery=True)

    outbox.append([UsageRecord(model="a"), UsageRecord(model="b")])

    assert [record.model for record in store.records] == ["a", "b"]  # before any flush
    assert outbox.path is not None
    with sqlite3.connect(outbox.path) as connection:
        assert connection.execute("SELECT count(*) FROM pending").fetchone() == (0,)
    connection.close()
    outbox.close(1)


def test_records_queue_behind_those_waiting_in_the_outbox(tmp_path: Path) -> None:
    failures = [DeliveryError("down", FailureKind.TRANSIENT) for _ in range(3)]
    store = ListStore(*failures)
    outbox = Outbox(store, folder=tmp_path, settings=FAST, direct_delivery=True)

    outbox.append([UsageRecord(model="first")])  # the direct delivery fails: into the outbox
    outbox.append([UsageRecord(model="second")])  # something waits: straight into the outbox
    result = outbox.close(10)

    assert result.pending == 0
    assert [record.model for record in store.records] == ["first", "second"]
    assert not store.failures


def test_without_direct_delivery_records_always_go_through_the_outbox(tmp_path: Path) -> None:
    store = ListStore()
    outbox = Outbox(store, folder=tmp_path, settings=SenderSettings(max_batch_age=3600))

    outbox.append([UsageRecord(model="a")])

    assert not store.records
    assert outbox.flush(5).delivered == 1
    outbox.close(1)


def test_flush_without_timeout_returns_at_the_first_failure(tmp_path: Path) -> None:
    failures = [DeliveryError("down", FailureKind.TRANSIENT) for _ in range(1000)]
    outbox = Outbox(ListStore(*failures), folder=tmp_path, settings=FAST)
    outbox.append([UsageRecord(), UsageRecord()])

    started = time.monotonic()
    result = outbox.flush()

    assert result.delivered == 0
    assert result.pending == 2
    assert time.monotonic() - started < 5
    assert outbox.close(0.05).pending == 2
    assert outbox.flush().pending == 2
    assert outbox.close().pending == 2


def test_an_in_memory_outbox_says_what_it_loses(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    failures = [DeliveryError("down", FailureKind.TRANSIENT) for _ in range(1000)]

    with caplog.at_level(logging.WARNING):
        outbox = Outbox(ListStore(*failures), folder=blocked / "outbox", settings=FAST)
        outbox.append([UsageRecord()])
        outbox.close(0.05)

    assert outbox.path is None
    assert "1 records for list-store were never delivered and are lost" in caplog.text


def test_dead_letters_of_a_dead_process_are_adopted(tmp_path: Path) -> None:
    orphan = OutboxFile(tmp_path)
    record = UsageRecord()
    orphan.append([(record.id, record_to_json(record))])
    orphan.dead_letter(orphan.oldest(1)[0], "22P02: bad value")
    orphan.close()

    survivor = OutboxFile(tmp_path)
    survivor.adopt_orphans()
    assert survivor.path is not None

    assert survivor.counts()[:2] == (0, 1)
    assert [path.name for path in tmp_path.glob("*.outbox")] == [survivor.path.name]
    survivor.close()
    assert survivor.path.exists(), "dead letters keep their file"


def test_a_running_process_file_is_not_adopted(tmp_path: Path) -> None:
    alive = OutboxFile(tmp_path)
    alive.append([("one", record_to_json(UsageRecord(id="one")))])
    other = OutboxFile(tmp_path)

    assert other.adopt_orphans() == 0
    assert alive.counts()[0] == 1
    alive.close()
    other.close()


def test_files_are_adopted_periodically(tmp_path: Path) -> None:
    store = ListStore()
    settings = dataclasses.replace(FAST, adopt_interval=0.05)
    outbox = Outbox(store, folder=tmp_path, settings=settings)
    late = OutboxFile(tmp_path)
    record = UsageRecord()
    late.append([(record.id, record_to_json(record))])
    late.close()

    deadline = time.monotonic() + 5
    while not store.records and time.monotonic() < deadline:
        time.sleep(0.02)
    outbox.close(1)

    assert [r.id for r in store.records] == [record.id]


def test_the_default_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENTRAIL_OUTBOX_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", "/state")
    assert default_outbox_root() == Path("/state/tokentrail/outbox")
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", "~/spool")
    assert default_outbox_root() == Path(os.path.expanduser("~/spool"))


def test_backoff_grows_to_its_ceiling_with_jitter() -> None:
    settings = SenderSettings(initial_backoff=1.0, max_backoff=8.0)

    waits = [settings.backoff(failures) for failures in (1, 2, 3, 4, 10)]

    assert 0.5 <= waits[0] <= 1.0
    assert 1.0 <= waits[1] <= 2.0
    assert 2.0 <= waits[2] <= 4.0
    assert 4.0 <= waits[3] <= 8.0
    assert 4.0 <= waits[4] <= 8.0


def test_summary_comes_from_the_store(tmp_path: Path) -> None:
    store = ListStore()
    outbox = Outbox(store, folder=tmp_path, settings=FAST)
    outbox.append([UsageRecord(), UsageRecord()])
    outbox.flush(5)

    rows = outbox.summary("org-a", datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC))
    outbox.close(1)

    assert [(row.bucket, row.records, row.cost_usd) for row in rows] == [("org-a", 2, None)]


def test_concurrent_appends_are_all_committed_once(tmp_path: Path) -> None:
    outbox = OutboxFile(tmp_path)
    ids = [[f"{thread}-{number}" for number in range(300)] for thread in range(8)]

    def caller(mine: list[str]) -> None:
        for record_id in mine:
            outbox.append([(record_id, "{}")])

    threads = [threading.Thread(target=caller, args=(mine,)) for mine in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stored = [entry.id for entry in outbox.oldest(10_000)]
    outbox.close()
    assert sorted(stored) == sorted(record_id for mine in ids for record_id in mine)


class FailsOnce:
    """A connection whose next `executemany` fails, as a full disk would."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.failed = False

    def executemany(self, statement: str, rows: list[tuple[object, ...]]) -> sqlite3.Cursor:
        if not self.failed:
            self.failed = True
            raise sqlite3.OperationalError("database or disk is full")
        return self.connection.executemany(statement, rows)

    def __getattr__(self, name: str) -> object:
        return getattr(self.connection, name)


def test_a_failed_group_commit_leaves_other_callers_rows_queued(tmp_path: Path) -> None:
    outbox = OutboxFile(tmp_path)
    real = outbox._connection
    # Another caller's row is queued when this caller's commit fails.
    outbox._queue.append(("theirs", 1.0, "{}"))
    outbox._queued += 1
    outbox._connection = FailsOnce(real)  # type: ignore[assignment]  # a stand-in for the test

    with pytest.raises(sqlite3.OperationalError):
        outbox.append([("mine", "{}")])
    outbox._connection = real
    outbox.append([("later", "{}")])

    assert [entry.id for entry in outbox.oldest(10)] == ["theirs", "later"]
    assert not real.in_transaction
    outbox.close()


def test_the_journal_hands_over_batches_the_size_the_store_prefers(tmp_path: Path) -> None:
    class PrefersSeven(ListStore):
        batch_rows = 7

    plain = Outbox(ListStore(), folder=tmp_path / "plain", settings=FAST)
    preferring = Outbox(PrefersSeven(), folder=tmp_path / "preferring", settings=FAST)

    assert (plain.batch_rows, preferring.batch_rows) == (FAST.batch_size, 7)
    plain.close(1)
    preferring.close(1)
