"""`UsageTracker`: takes records on the caller's thread and finishes the work in the background.

The caller waits only for the sink's local write (the SQLite store itself, or the outbox of a
remote store). Pricing records that pydantic-ai left unpriced, and retrying writes that failed,
happen on one daemon thread per tracker. At process exit a bounded flush runs; what is left stays
in the outbox, or in the unsaved-records file when even the local write keeps failing.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from tokentrail._last_resort import save_unsaved
from tokentrail._pricing import may_price, price_record
from tokentrail._process import generation
from tokentrail._record import COLUMNS, UsageRecord
from tokentrail._warnings import warn_limited
from tokentrail.stores import (
    FlushResult,
    PricedCost,
    RecordSink,
    StoreConfigurationError,
    default_sqlite_path,
    open_sink,
    validate_store,
)
from tokentrail.stores._codec import COST_INDEX, Row, record_from_row, record_to_row
from tokentrail.stores._summary import GroupBy, SummaryRow

logger = logging.getLogger(__name__)

_RETRY_SECONDS = 5.0
_BATCH_SECONDS = 0.25
_YIELD_EVERY = 4
_PROVIDER_INDEX = COLUMNS.index("provider")
_MODEL_INDEX = COLUMNS.index("model")
_live_trackers: weakref.WeakSet[UsageTracker] = weakref.WeakSet()


class UsageTracker:
    """Records usage to a store.

    Args:
        store: a store URL (`sqlite:///usage.db`, `postgresql://...`, `supabase://`), a store
            object, or a supabase-py sync `Client`. `None` uses `TOKENTRAIL_STORE`, else the
            embedded SQLite file (announced once at WARNING; `TOKENTRAIL_REQUIRE_STORE=1` makes that
            an error instead).

    Raises:
        StoreConfigurationError: the store cannot be used; the message says what to change.
    """

    def __init__(self, store: Any = None) -> None:
        self._store = _store_or_default(store)
        validate_store(self._store)
        self._sink: RecordSink | None = None
        self._sink_prices = False
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._to_price: deque[Row] = deque()
        self._unwritten: list[Row] = []
        self._busy = False
        self._hurry = False
        self._sleeping = False
        self._needs_maintenance = False
        self._worker: threading.Thread | None = None
        self._worker_generation = -1
        self._closed = False
        _live_trackers.add(self)

    @classmethod
    def from_url(cls, url: str) -> UsageTracker:
        """A tracker writing to the store at `url`."""
        return cls(url)

    def __repr__(self) -> str:
        return f"UsageTracker(store={self._sink_name()!r})"

    def _sink_name(self) -> str:
        return self._sink.name if self._sink is not None else type(self._store).__name__

    def track(self, user_id: str | None, organization_id: str | None, record: Any) -> None:
        """Record a usage record made elsewhere, for this user and organization.

        `record` is a `UsageRecord` or any object with the older attributes (`provider`, `model`,
        `tool_name`, `operation`, `input_tokens`, `output_tokens`, `cost_usd`, `duration_ms`,
        `request_metadata`).
        """
        usage_record = _as_usage_record(record)
        usage_record = dataclasses.replace(
            usage_record, user_id=user_id, organization_id=organization_id
        )
        self.record([usage_record])

    def record(self, records: Sequence[UsageRecord]) -> None:
        """Write `records` to the local sink now; never raises."""
        self.record_rows([record_to_row(record) for record in records])

    def record_rows(self, rows: Sequence[Row]) -> None:
        """Write rows (see `stores._codec`) to the local sink now; never raises.

        This is the whole of what a tracked call waits for, so it does as little as it can:
        one local write, and a word to the background thread only when it has something new to do.
        """
        if not rows:
            return
        try:
            sink = self._open_sink()
            append_rows = getattr(sink, "append_rows", None)
            if append_rows is not None:
                append_rows(rows)
            else:
                sink.append([record_from_row(row) for row in rows])
        except Exception as error:  # noqa: BLE001 - tracking never breaks the caller
            warn_limited(
                logger,
                f"append:{id(self)}",
                "tokentrail: could not write %d usage record(s) to %s (%s: %s); keeping them in "
                "memory and retrying every %.0f s",
                len(rows),
                self._sink_name(),
                type(error).__name__,
                error,
                _RETRY_SECONDS,
            )
            self._queue(unwritten=rows)
            return
        if not self._sink_prices:
            self._to_price.extend([row for row in rows if _may_price(row)])
        self._needs_maintenance = True
        # Without the lock: the worker marks itself sleeping *before* it looks for work, so
        # either it sees these rows or this reads `_sleeping` as set and wakes it.
        if self._sleeping or self._closed or self._worker_generation != generation():
            self._queue()

    def summary(
        self,
        organization_id: str,
        start: datetime,
        end: datetime,
        group_by: GroupBy = "day",
    ) -> list[SummaryRow]:
        """Totals for one organization in `[start, end)`, summed by the store itself.

        Grouped by UTC day, tool, operation or model; the database does the sums, rows are never
        fetched into Python.

        Records this process wrote are counted; records still waiting in a remote store's outbox
        are not until they are delivered: call `flush()` first when that matters.

        Raises:
            TypeError: the store cannot sum its records (a custom store object without `summary`).
            ValueError: `group_by` is not one of `day`, `tool`, `operation`, `model`.
        """
        summary = getattr(self._open_sink(), "summary", None)
        if summary is None:
            raise TypeError(f"the store {self._sink_name()} does not offer summaries")
        rows: list[SummaryRow] = summary(organization_id, start, end, group_by)
        return rows

    def _open_sink(self) -> RecordSink:
        if self._sink is None:
            with self._lock:
                if self._sink is None:
                    sink = open_sink(self._store)
                    self._sink_prices = bool(getattr(sink, "prices_before_delivery", False))
                    self._sink = sink
        return self._sink

    def _queue(self, *, unwritten: Sequence[Row] = ()) -> None:
        with self._wake:
            self._unwritten.extend(unwritten)
            self._ensure_worker()
            # Wake the worker only when it sleeps with nothing to do: while it collects a batch,
            # the caller's thread never hands the interpreter over to it after a run.
            if self._sleeping:
                self._sleeping = False
                self._wake.notify_all()

    def _ensure_worker(self) -> None:
        # Called with the lock held. A forked child starts its own worker.
        if (
            self._worker is not None
            and self._worker_generation == generation()
            and self._worker.is_alive()
        ):
            return
        self._sleeping = False
        self._worker = threading.Thread(target=self._work, name="tokentrail-tracker", daemon=True)
        self._worker_generation = generation()
        self._worker.start()

    def _work(self) -> None:
        last_retry = 0.0
        while True:
            with self._wake:
                self._sleeping = True
                if not self._has_work():
                    self._wake.wait_for(lambda: not self._sleeping or self._closed or self._hurry)
                self._sleeping = False
                self._wake.wait_for(lambda: self._closed or self._hurry, _BATCH_SECONDS)
                hurry, self._hurry = self._hurry, False
                closing = self._closed
                to_price = _take_all(self._to_price)
                maintenance, self._needs_maintenance = self._needs_maintenance, False
                unwritten: list[Row] = []
                if hurry or time.monotonic() - last_retry >= _RETRY_SECONDS:
                    unwritten, self._unwritten = self._unwritten, []
                self._busy = True
            try:
                self._price(to_price)
                if unwritten:
                    last_retry = time.monotonic()
                    self._retry(unwritten)
                if maintenance:
                    self._maintain()
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()
            if closing:
                return

    def _has_work(self) -> bool:
        return bool(
            self._to_price
            or self._unwritten
            or self._needs_maintenance
            or self._closed
            or self._hurry
        )

    def _price(self, rows: Sequence[Row]) -> None:
        costs = []
        for count, row in enumerate(rows, start=1):
            record = record_from_row(row)
            priced = price_record(record)
            if priced is not record and priced.cost_usd is not None:
                costs.append(PricedCost(priced.id, priced.cost_usd, priced.cost_source))
            if count % _YIELD_EVERY == 0:
                time.sleep(0)  # hand the interpreter to callers waiting for it between records
        if not costs:
            return
        try:
            self._open_sink().set_costs(costs)
        except Exception as error:  # noqa: BLE001 - a lost price is recovered by repricing
            warn_limited(
                logger,
                f"price:{id(self)}",
                "tokentrail: could not store %d computed cost(s) (%s: %s)",
                len(costs),
                type(error).__name__,
                error,
            )

    def _maintain(self) -> None:
        # Sinks with housekeeping to keep off the caller's path (SQLite checkpoints) offer it here.
        maintain = getattr(self._sink, "maintain", None)
        if maintain is None:
            return
        try:
            maintain()
        except Exception as error:  # noqa: BLE001 - housekeeping is retried after the next write
            warn_limited(
                logger,
                f"maintain:{id(self)}",
                "tokentrail: store housekeeping failed (%s: %s)",
                type(error).__name__,
                error,
            )

    def _retry(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        try:
            self._open_sink().append([record_from_row(row) for row in rows])
        except Exception:  # noqa: BLE001 - kept for the next attempt
            with self._wake:
                self._unwritten[:0] = rows
            return
        logger.info("tokentrail: wrote %d usage record(s) that had failed before", len(rows))
        self._price([row for row in rows if _may_price(row)])

    def _wait_idle(self, timeout: float | None) -> None:
        with self._wake:
            if self._worker is None or self._worker_generation != generation():
                pending_price = _take_all(self._to_price)
            else:
                self._hurry = True
                self._wake.notify_all()
                self._wake.wait_for(
                    lambda: not (self._to_price or self._busy or self._hurry), timeout
                )
                pending_price = []
        self._price(pending_price)

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Wait for background work and deliver what waits, for at most `timeout` seconds.

        Opens the store if this tracker has not written yet, so that records an ended process
        left in its journal or outbox are delivered too. Returns the number of records
        delivered and still pending; never raises.
        """
        return self._flush(timeout, open_store=True)

    def _flush(self, timeout: float | None, *, open_store: bool) -> FlushResult:
        self._wait_idle(timeout)
        with self._lock:
            unwritten = len(self._unwritten)
        if self._sink is None and not open_store:
            return FlushResult(delivered=0, pending=unwritten)
        try:
            result = self._open_sink().flush(timeout)
        except Exception as error:  # noqa: BLE001 - flush reports, it does not raise
            warn_limited(
                logger,
                f"flush:{id(self)}",
                "tokentrail: flush failed (%s: %s)",
                type(error).__name__,
                error,
            )
            return FlushResult(delivered=0, pending=unwritten)
        return FlushResult(result.delivered, result.pending + unwritten)

    def close(self, timeout: float | None = None) -> FlushResult:
        """Flush, then stop the background thread and release the store."""
        result = self._flush(timeout, open_store=False)
        with self._wake:
            self._closed = True
            unwritten, self._unwritten = self._unwritten, []
            self._wake.notify_all()
        self._last_attempt(unwritten)
        if self._sink is not None:
            try:
                result = self._sink.close(timeout)
            except Exception as error:  # noqa: BLE001 - closing reports, it does not raise
                logger.warning("tokentrail: closing %s failed (%s)", self._sink_name(), error)
        _live_trackers.discard(self)
        return result

    def _last_attempt(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        records = [record_from_row(row) for row in rows]
        try:
            self._open_sink().append(records)
        except Exception:  # noqa: BLE001 - the unsaved-records file is the last resort
            save_unsaved(records)


def _may_price(row: Row) -> bool:
    return may_price(row[_PROVIDER_INDEX], row[_MODEL_INDEX], has_cost=row[COST_INDEX] is not None)


def _take_all(rows: deque[Row]) -> list[Row]:
    """Empty `rows`, which callers may extend meanwhile, losing none of them."""
    taken = []
    while rows:
        taken.append(rows.popleft())
    return taken


_announced_default = False


def _store_or_default(store: Any) -> Any:
    global _announced_default
    if store is not None:
        return store
    configured = os.environ.get("TOKENTRAIL_STORE")
    if configured:
        return configured
    if os.environ.get("TOKENTRAIL_REQUIRE_STORE", "") not in {"", "0"}:
        raise StoreConfigurationError(
            "TOKENTRAIL_REQUIRE_STORE is set but no store is configured: set TOKENTRAIL_STORE "
            "(for example postgresql://... or supabase://) or pass store= to UsageTracker or "
            "configure()"
        )
    path = default_sqlite_path()
    if not _announced_default:
        _announced_default = True
        logger.warning(
            "tokentrail: no store configured; recording usage to the embedded SQLite file %s. "
            "Set TOKENTRAIL_STORE (e.g. postgresql://... or supabase://) or call "
            "tokentrail.configure(store=...) to use a real store.",
            path,
        )
    return f"sqlite:///{path}"


_LEGACY_TOKEN_NAMES = {"input_tokens": "request_tokens", "output_tokens": "response_tokens"}


def _as_usage_record(record: Any) -> UsageRecord:
    if isinstance(record, UsageRecord):
        return record
    values: dict[str, Any] = {}
    for field in dataclasses.fields(UsageRecord):
        if field.name in {"user_id", "organization_id"}:
            continue
        value = getattr(record, field.name, None)
        if value is None and field.name in _LEGACY_TOKEN_NAMES:
            value = getattr(record, _LEGACY_TOKEN_NAMES[field.name], None)
        if value is not None:
            values[field.name] = value
    cost = values.get("cost_usd")
    if cost is not None and not isinstance(cost, Decimal):
        values["cost_usd"] = Decimal(str(cost))
    if cost is not None and "cost_source" not in values:
        values["cost_source"] = "override"
    return UsageRecord(**values)


def _close_all_at_exit() -> None:
    timeout = float(os.environ.get("TOKENTRAIL_EXIT_FLUSH_TIMEOUT", "5"))
    for tracker in list(_live_trackers):
        result = tracker.close(timeout)
        if result.pending:
            logger.warning(
                "tokentrail: %d usage record(s) still wait in the outbox at exit; the next "
                "process using this store delivers them",
                result.pending,
            )


atexit.register(_close_all_at_exit)
