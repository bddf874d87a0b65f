"""The outbox's sender: a daemon thread that moves records from the outbox into the store.

It sends a batch when enough records wait or the oldest has waited long enough, deletes from
the outbox only what the store confirmed, and keeps everything else. A transient failure waits
out an exponential backoff with jitter and retries the same records; a permanent one is bisected
until the rows at fault are alone, and those move to the dead-letter table with their error.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tokentrail._pricing import may_override_costs, may_price, price_record
from tokentrail._record import COLUMNS, UsageRecord
from tokentrail.stores._base import FlushResult
from tokentrail.stores._codec import (
    COST_INDEX,
    Row,
    record_from_json,
    record_from_row,
    record_to_json,
    record_to_row,
    row_to_payload,
)
from tokentrail.stores._errors import DeliveryError, FailureKind
from tokentrail.stores._outbox_file import OutboxFile, PendingEntry
from tokentrail.stores._remote import RemoteStore

logger = logging.getLogger(__name__)

_NO_COST = '"cost_usd":null'
"""How `record_to_json` writes a missing cost: a substring test finds records to price."""

_PROVIDER_INDEX = COLUMNS.index("provider")
_MODEL_INDEX = COLUMNS.index("model")

Pricer = Callable[[UsageRecord], UsageRecord]


@dataclass(frozen=True, slots=True)
class SenderSettings:
    """How the sender batches, retries and reports.

    Attributes:
        batch_size: records per write to the store.
        max_batch_age: seconds the oldest waiting record may wait for its batch to fill.
        initial_backoff: seconds to wait after the first transient failure; doubles per failure.
        max_backoff: the longest wait between attempts.
        warn_interval: seconds between the WARNINGs that report records stuck in the outbox.
        adopt_interval: seconds between looks for outbox files left by dead processes.
    """

    batch_size: int = 500
    max_batch_age: float = 1.0
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    warn_interval: float = 60.0
    adopt_interval: float = 60.0

    def backoff(self, failures: int) -> float:
        """The wait after `failures` transient failures in a row: "equal jitter" backoff."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** max(0, failures - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)


class Sender(threading.Thread):
    """Delivers the outbox's records to `store` until stopped."""

    def __init__(
        self,
        store: RemoteStore,
        outbox: OutboxFile,
        settings: SenderSettings,
        pricer: Pricer,
    ) -> None:
        super().__init__(name=f"tokentrail-sender-{store.name}", daemon=True)
        self._store = store
        self._outbox = outbox
        self._settings = settings
        self._pricer = pricer
        self._condition = threading.Condition()
        # One write to the store at a time: the sender's batches, or a direct delivery.
        self._store_lock = threading.Lock()
        self._arrived = 0
        self._wanted = settings.batch_size
        self._flush_requests = 0
        self._kicked = False
        self._stopping = False
        self._delivered = 0
        self._failure_count = 0
        self._consecutive_failures = 0
        self._last_error = ""
        self._last_warning = float("-inf")
        self._first_adoption_done = threading.Event()

    def notify_appended(self, count: int) -> None:
        """Tell the sender that `count` records arrived (cheap: called on the caller's thread).

        The sender is woken only when they can complete the batch it waits for, so a steady
        trickle of records does not make it read the outbox once per record.
        """
        with self._condition:
            self._arrived += count
            if self._arrived >= self._wanted:
                self._condition.notify_all()

    def run(self) -> None:
        """Adopt files of dead processes, then deliver batches until `stop` is called."""
        # Adopting a large file takes a while: here, not on the caller who opened the store.
        self.adopt()
        self._first_adoption_done.set()
        next_adoption = time.monotonic() + self._settings.adopt_interval
        while not self._stopping:
            if time.monotonic() >= next_adoption:
                self.adopt()
                next_adoption = time.monotonic() + self._settings.adopt_interval
            with self._condition:
                self._arrived = 0
            batch = self._outbox.oldest(self._settings.batch_size)
            wait = self._time_until_due(batch)
            if wait > 0:
                with self._condition:
                    self._wanted = self._settings.batch_size - len(batch) if batch else 1
                self._sleep(min(wait, max(0.0, next_adoption - time.monotonic())), backoff=False)
                continue
            self._attempt(batch)

    def _time_until_due(self, batch: Sequence[PendingEntry]) -> float:
        if not batch:
            return float("inf")
        if len(batch) >= self._settings.batch_size or self._flush_requests:
            return 0.0
        return self._settings.max_batch_age - (time.time() - batch[0].enqueued_at)

    def _sleep(self, seconds: float, *, backoff: bool) -> None:
        """Wait up to `seconds`; enough records arriving end a normal wait, not a backoff."""
        with self._condition:
            self._condition.wait_for(
                lambda: (
                    self._stopping
                    or self._kicked
                    or (not backoff and self._arrived >= self._wanted)
                ),
                timeout=seconds,
            )
            self._kicked = False
            self._wanted = self._settings.batch_size

    def adopt(self) -> None:
        """Take over outbox files of dead processes of this store (also done periodically)."""
        try:
            adopted = self._outbox.adopt_orphans()
        except Exception:
            logger.exception("could not adopt outbox files left by stopped processes")
            return
        if adopted:
            logger.warning(
                "delivering %d records left in the outbox by a stopped process to %s",
                adopted,
                self._store.name,
            )

    def deliver_directly(self, rows: Sequence[Row]) -> bool:
        """Store `rows` now, on the calling thread, skipping the outbox; True when stored.

        Only while the store keeps up: nothing waits in the outbox (what waits goes first), the
        last attempt succeeded, and the sender is not writing. Any failure returns False without
        retrying; the caller then commits the records to the outbox, where the sender's
        retries, backoff and bisection take over. A failure after the store committed (a lost
        reply) does no harm: the store ignores ids it already has.
        """
        if self._stopping or self._consecutive_failures:
            return False
        if not self._store_lock.acquire(blocking=False):
            return False
        try:
            if self._outbox.has_pending():
                return False
            priced = [self._priced_row(row) for row in rows]
            write_rows = getattr(self._store, "write_rows", None)
            if write_rows is not None:
                write_rows(priced)
            else:
                self._store.write_payloads([row_to_payload(row) for row in priced])
        except Exception as error:  # noqa: BLE001 - the outbox path reports it
            logger.debug("direct delivery to %s failed (%s); using the outbox", self.name, error)
            return False
        finally:
            self._store_lock.release()
        with self._condition:
            self._delivered += len(rows)
            self._condition.notify_all()
        return True

    def _attempt(self, batch: Sequence[PendingEntry]) -> None:
        try:
            with self._store_lock:
                self._deliver(list(batch))
        except DeliveryError as error:
            self._record_failure(str(error))
            self._sleep(self._settings.backoff(self._consecutive_failures), backoff=True)
        except Exception as error:
            # A bug must not stop delivery for good: keep the records and try again later.
            logger.exception("unexpected error while delivering records to %s", self._store.name)
            self._record_failure(f"{type(error).__name__}: {error}")
            self._sleep(self._settings.backoff(self._consecutive_failures), backoff=True)
        else:
            self._consecutive_failures = 0

    def _deliver(self, batch: list[PendingEntry]) -> None:
        """Store `batch`, bisecting around rows the store refuses for good."""
        try:
            self._store.write_payloads([self._priced(entry.payload) for entry in batch])
        except DeliveryError as error:
            if error.kind is FailureKind.TRANSIENT:
                raise
            if len(batch) == 1:
                self._outbox.dead_letter(batch[0], str(error))
                logger.warning(
                    "%s refused record %s for good; it is kept in the outbox's dead-letter "
                    "table (see `tokentrail outbox status`): %s",
                    self._store.name,
                    batch[0].id,
                    error,
                )
                self._notify_progress()
                return
            middle = len(batch) // 2
            self._deliver(batch[:middle])
            self._deliver(batch[middle:])
            return
        self._outbox.remove(batch)
        with self._condition:
            self._delivered += len(batch)
            self._condition.notify_all()

    def _needs_price(self, has_cost: bool) -> bool:
        # Only the runtime's pricer knows custom prices, which replace even a cost the record has.
        return not has_cost or (self._pricer is price_record and may_override_costs())

    def _priced_row(self, row: Row) -> Row:
        """The row with its cost filled in if it had none (or a custom price overrides it)."""
        has_cost = row[COST_INDEX] is not None
        if self._pricer is price_record:
            if not may_price(row[_PROVIDER_INDEX], row[_MODEL_INDEX], has_cost=has_cost):
                return row
        elif has_cost:
            return row
        priced = self._price(record_from_row(row))
        return row if priced is None else record_to_row(priced)

    def _price(self, record: UsageRecord) -> UsageRecord | None:
        """`record` priced, or None when no price is found (or pricing fails)."""
        try:
            priced = self._pricer(record)
        except Exception:  # noqa: BLE001 - a pricing bug costs a price, never a record
            logger.debug("could not price record %s; it is stored without a cost", record.id)
            return None
        return None if priced.cost_usd is None else priced

    def _priced(self, payload: str) -> str:
        """The payload with its cost filled in if it had none (or a custom price overrides it)."""
        if not self._needs_price(_NO_COST not in payload):
            return payload
        priced = self._price(record_from_json(payload))
        return payload if priced is None else record_to_json(priced)

    def _notify_progress(self) -> None:
        with self._condition:
            self._condition.notify_all()

    def _record_failure(self, message: str) -> None:
        with self._condition:
            self._failure_count += 1
            self._consecutive_failures += 1
            self._last_error = message
            self._condition.notify_all()
        now = time.monotonic()
        if now - self._last_warning >= self._settings.warn_interval:
            self._last_warning = now
            waiting, _, oldest = self._outbox.counts()
            age = 0.0 if oldest is None else time.time() - oldest
            logger.warning(
                "%d records waiting in the outbox for %s, the oldest for %.0f s; last error: %s",
                waiting,
                self._store.name,
                age,
                message,
            )

    def flush(self, timeout: float | None) -> FlushResult:
        """Send what waits now; return when nothing waits, after `timeout`, or on failure.

        With `timeout=None` the wait also ends at the first failed attempt after the call, so a
        store that is down cannot block the caller.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # Records adopted from a crashed process count as waiting, so let the first look finish.
        if self.is_alive():
            self._first_adoption_done.wait(timeout)
        with self._condition:
            delivered_before = self._delivered
            failures_before = self._failure_count
            self._flush_requests += 1
            self._kicked = True
            self._condition.notify_all()
            try:
                while self._outbox.has_pending() and self.is_alive():
                    if deadline is None and self._failure_count > failures_before:
                        break
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._condition.wait(0.5 if remaining is None else min(remaining, 0.5))
            finally:
                self._flush_requests -= 1
            delivered = self._delivered - delivered_before
        return FlushResult(delivered=delivered, pending=self._outbox.counts()[0])

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to finish its current attempt and end; wait up to `timeout` for it."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self.is_alive():
            self.join(timeout)
