"""What the tracker needs from the place records go."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tokentrail._record import CostSource, UsageRecord


@dataclass(frozen=True, slots=True)
class FlushResult:
    """How many records reached the store, and how many still wait in the outbox."""

    delivered: int
    pending: int


@dataclass(frozen=True, slots=True)
class PricedCost:
    """A cost computed after a record was written (see `RecordSink.set_costs`)."""

    record_id: str
    cost_usd: Decimal
    cost_source: CostSource


class RecordSink(Protocol):
    """Where the tracker hands records, on the caller's thread.

    `append` must be durable against a crash of the process when it returns, and cheap: it is the
    only part of tracking the caller waits for. A local store (SQLite) is its own sink; a remote
    store sits behind an outbox that implements this protocol and delivers in the background.

    A sink that prices records itself just before delivering them sets a class attribute
    `prices_before_delivery = True`; the tracker then leaves pricing to it.
    """

    @property
    def name(self) -> str:
        """A short name for logs and outbox folders; never contains credentials."""
        ...

    def append(self, records: Sequence[UsageRecord]) -> None:
        """Persist `records` locally; raise if that is impossible."""
        ...

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        """Fill in costs computed after `append` (records still waiting or already stored)."""
        ...

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Deliver what waits, for at most `timeout` seconds; never raises for store errors."""
        ...

    def close(self, timeout: float | None = None) -> FlushResult:
        """Flush, then release connections, files and threads."""
        ...
