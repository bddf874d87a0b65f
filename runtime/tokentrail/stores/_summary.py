"""Usage totals read back from a store, aggregated by the database, never in Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Final, Literal

GroupBy = Literal["day", "tool", "operation", "model"]


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """The totals of one group (a UTC day `YYYY-MM-DD`, a tool, an operation or a model).

    `cost_usd` sums the known costs only; `unpriced_records` says how many rows had none, so a
    report can show that its total is a lower bound.
    """

    bucket: str | None
    records: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    requests: int
    tool_calls: int
    cost_usd: Decimal | None
    unpriced_records: int

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> SummaryRow:
        """A row from the database's column values (numbers may arrive as text or floats)."""
        cost = values.get("cost_usd")
        return cls(
            bucket=None if values.get("bucket") is None else str(values["bucket"]),
            cost_usd=None if cost is None else Decimal(str(cost)),
            **{name: int(str(values.get(name) or 0)) for name in _COUNTS},
        )


_COUNTS: Final = tuple(
    field.name for field in fields(SummaryRow) if field.name not in {"bucket", "cost_usd"}
)
SUMMARY_COLUMNS: Final = tuple(field.name for field in fields(SummaryRow))
