"""What the outbox's sender needs from a remote store, and how a store argument becomes one."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from tokentrail._record import UsageRecord
from tokentrail.stores._base import FlushResult, PricedCost, RecordSink
from tokentrail.stores._summary import GroupBy, SummaryRow


class RemoteStore(Protocol):
    """A store reached over the network, written in batches by the outbox's sender thread.

    `write_payloads` takes records as the outbox keeps them (one JSON object each, see
    `_codec.record_to_json`), so that the sender passes them on without decoding them. It either
    stores every record of the batch (records already there count as stored) or raises
    `DeliveryError`; it is only ever called from one thread at a time.

    A store may also offer `write_rows(rows)`, the same for records as rows (see `_codec`): the
    journal's batches are rows, and a store that parses them itself saves the sender encoding
    each as an outbox payload. The stores of this package do.
    """

    @property
    def name(self) -> str:
        """A short name for logs and the outbox folder; never contains credentials."""
        ...

    def write_payloads(self, payloads: Sequence[str]) -> None:
        """Store a batch, or raise `DeliveryError` saying whether to retry."""
        ...

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        """Totals for one organization in `[start, end)`, aggregated by the store."""
        ...

    def close(self) -> None:
        """Release the connection; a later `write` may open a new one."""
        ...


def _configuration_error(message: str) -> Exception:
    from tokentrail.stores import StoreConfigurationError

    return StoreConfigurationError(message)


def _require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise _configuration_error(
            f"this store needs the {module} package: install `tokentrail[{extra}]`"
        )


def open_remote_store(store: object) -> RemoteStore:
    """The remote store a URL or a supabase-py client names; nothing is connected yet.

    Raises:
        StoreConfigurationError: the driver is not installed, `supabase://` lacks its
            environment variables, or `store` is an `AsyncClient` or not a store at all.
    """
    if isinstance(store, str) and store.startswith(("postgresql://", "postgres://")):
        _require("psycopg", "postgres")
        from tokentrail.stores.postgres import PostgresStore

        return PostgresStore(store)

    if not (isinstance(store, str) or type(store).__module__.startswith("supabase")):
        raise _configuration_error(
            f"cannot use a {type(store).__name__} as a store: pass a store URL, an object with "
            "append/set_costs/flush/close, or a supabase-py sync Client"
        )
    _require("supabase", "supabase")
    from tokentrail.stores.supabase import SupabaseStore

    try:
        if isinstance(store, str):
            return SupabaseStore.from_environment()
        return SupabaseStore(store)
    except (TypeError, ValueError) as error:
        raise _configuration_error(str(error)) from None


class _CheckedOnly:
    """What `open_remote_sink(..., connect=False)` returns: proof the store could be opened."""

    def __init__(self, name: str) -> None:
        self.name = name

    def append(self, records: Sequence[UsageRecord]) -> None:
        raise RuntimeError(f"the store {self.name} was only checked, not opened")

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        """Nothing was opened, so nothing waits for a cost."""

    def flush(self, timeout: float | None = None) -> FlushResult:
        return FlushResult(delivered=0, pending=0)

    def close(self, timeout: float | None = None) -> FlushResult:
        return FlushResult(delivered=0, pending=0)


def open_remote_sink(store: object, *, connect: bool = True) -> RecordSink:
    """A journal and an outbox in front of the remote store `store` names, its sender started.

    The caller's write is a journal line; the tracker's background thread stores batches of
    lines itself while the store keeps up, and otherwise moves them into the outbox, whose sender
    delivers them.

    With `connect=False` the store is only checked (no outbox file, no thread, no connection).
    """
    remote = open_remote_store(store)
    if not connect:
        return _CheckedOnly(remote.name)
    from tokentrail.stores.journal import JournaledStore
    from tokentrail.stores.outbox import Outbox

    outbox = Outbox(remote, direct_delivery=True)
    if outbox.in_memory:
        # The folder is not writable: a journal there could not be written either, so callers
        # append to the outbox themselves and must never wait for the network.
        outbox.direct_delivery = False
        return outbox
    return JournaledStore(outbox, outbox.journal_folder)
