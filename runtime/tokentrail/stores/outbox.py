"""The outbox: a durable, local hand-over point in front of a remote store.

The tracker hands records to `Outbox.append` on the caller's thread. They are committed to a
local SQLite file (see `_outbox_file`), which takes tens of microseconds and survives a crash of
the process, and a daemon thread (`_sender`) delivers them to the store in batches. A store that
is down, slow or refusing costs the caller nothing: records wait on disk, not in memory.
"""

from __future__ import annotations

import importlib
import logging
import os
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tokentrail._record import UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost
from tokentrail.stores._codec import Row, record_to_row, row_to_payload
from tokentrail.stores._outbox_file import OutboxFile, default_outbox_root
from tokentrail.stores._remote import RemoteStore
from tokentrail.stores._sender import Pricer, Sender, SenderSettings
from tokentrail.stores._summary import GroupBy, SummaryRow

logger = logging.getLogger(__name__)


def _unpriced(record: UsageRecord) -> UsageRecord:
    return record


def default_pricer() -> Pricer:
    """`tokentrail._pricing.price_record`, or no pricing when that module is unavailable."""
    try:
        module = importlib.import_module("tokentrail._pricing")
    except ImportError:
        return _unpriced
    price_record: Pricer = module.price_record
    return price_record


def _open_file(folder: Path) -> OutboxFile:
    try:
        return OutboxFile(folder)
    except (OSError, sqlite3.Error) as error:
        logger.warning(
            "cannot write the outbox folder %s (%s): undelivered records are kept in memory "
            "only and are lost if the process stops; set TOKENTRAIL_OUTBOX_DIR to a writable "
            "folder",
            folder,
            error,
        )
        return OutboxFile(None)


class Outbox:
    """A `RecordSink` that keeps records locally and delivers them to `store` in the background.

    Args:
        store: where records go.
        folder: this store's outbox folder; default `<outbox root>/<store name>`, where the root
            is `TOKENTRAIL_OUTBOX_DIR` or `~/.local/state/tokentrail/outbox`.
        settings: batching, retry and reporting settings.
        pricer: fills in the cost of a record that has none, just before delivery.
        direct_delivery: while the store keeps up, `append_rows` stores the rows itself, on the
            calling thread, instead of committing them for the sender. Only for a caller whose
            rows are safe elsewhere until the call returns, and who may wait for the network:
            the journal's background thread.
    """

    def __init__(
        self,
        store: RemoteStore,
        *,
        folder: Path | None = None,
        settings: SenderSettings | None = None,
        pricer: Pricer | None = None,
        direct_delivery: bool = False,
    ) -> None:
        self._store = store
        self.direct_delivery = direct_delivery
        self._folder = folder or default_outbox_root() / store.name
        self._settings = settings or SenderSettings()
        self._pricer = pricer or default_pricer()
        self._closed = False
        self._left_pending = 0
        self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._file = _open_file(self._folder)
        self._sender = Sender(self._store, self._file, self._settings, self._pricer)
        self._sender.start()

    def _check_fork(self) -> None:
        """In a forked child, start over with an outbox file and a sender of its own.

        The parent's file, lock and thread stay the parent's: the child has no sender thread,
        and two processes writing through one SQLite connection would corrupt it.
        """
        if self._pid != os.getpid():
            self._start()

    @property
    def name(self) -> str:
        """The store's name (no credentials)."""
        return self._store.name

    @property
    def path(self) -> Path | None:
        """This process's outbox file, or None when records are kept in memory."""
        return self._file.path

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        """Totals from the store (records still waiting in the outbox are not counted yet)."""
        return self._store.summary(organization_id, start, end, group_by)

    @property
    def in_memory(self) -> bool:
        """Whether records wait in memory only (the outbox folder could not be written)."""
        return self._file.in_memory

    @property
    def journal_folder(self) -> Path:
        """Where a journal in front of this outbox keeps its files."""
        return self._folder / "journal"

    def append(self, records: Sequence[UsageRecord]) -> None:
        """Commit `records` to the outbox; they are delivered in the background."""
        self.append_rows([record_to_row(record) for record in records])

    def append_rows(self, rows: Sequence[Row]) -> None:
        """Commit rows (see `_codec`) to the outbox, or, with `direct_delivery`, store them now.

        Behind a journal the rows are safe in the journal until this returns, so storing them
        directly needs no outbox commit: a store that keeps up costs no local write and
        read-back at all.
        """
        self._check_fork()
        if self.direct_delivery and not self._closed and self._sender.deliver_directly(rows):
            return
        self._file.append([(row[0], row_to_payload(row)) for row in rows])
        self._sender.notify_appended(len(rows))

    @property
    def batch_rows(self) -> int:
        """How many rows the journal in front should hand over at once: one store write.

        The store's own `batch_rows` where it has one (bigger batches cost fewer round trips),
        else the sender's batch size.
        """
        preferred = getattr(self._store, "batch_rows", None)
        return preferred if isinstance(preferred, int) else self._settings.batch_size

    prices_before_delivery = True
    """The sender prices records without a cost just before delivery (see `set_costs`)."""

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        """Nothing to do: the sender prices every record without a cost just before delivery.

        Updating waiting records here would need an index on their ids, which would make every
        append and every delivery dearer.
        """

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Deliver what waits, for at most `timeout` seconds (None: until done or a failure)."""
        self._check_fork()
        if self._closed:
            return FlushResult(delivered=0, pending=self._left_pending)
        return self._sender.flush(timeout)

    def close(self, timeout: float | None = None) -> FlushResult:
        """Flush, stop the sender, close the store; what is left stays in the outbox file."""
        self._check_fork()
        if self._closed:
            return FlushResult(delivered=0, pending=self._left_pending)
        result = self._sender.flush(timeout)
        self._sender.stop(timeout)
        self._closed = True
        self._left_pending = result.pending
        if result.pending and self._file.in_memory:
            logger.warning(
                "%d records for %s were never delivered and are lost: the outbox was in memory",
                result.pending,
                self._store.name,
            )
        elif result.pending:
            logger.warning(
                "%d records for %s are not delivered yet; they stay in %s and the next process "
                "using this store delivers them",
                result.pending,
                self._store.name,
                self._file.path,
            )
        if self._sender.is_alive():
            # Still inside a slow write: closing under it would fail that write; the thread is a
            # daemon and its records stay in the file either way.
            logger.warning("the sender for %s is still writing; leaving it to finish", self.name)
            return result
        self._store.close()
        self._file.close()
        return result
