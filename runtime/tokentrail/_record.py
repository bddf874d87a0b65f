"""The usage record: one row of the `token_usage` table.

A record is made once, when a run ends, and never changes afterwards except for its cost, which
may be filled in later off the caller's path (see `tokentrail._pricing`).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal

CostSource = Literal["pydantic-ai", "genai-prices", "override", "none"]
RunStatus = Literal["ok", "error", "cancelled"]


_ids = random.Random()
"""Where record ids come from: seeded from the OS once per process, then no system call.

`os.urandom` costs a `getrandom` call per id, during which CPython lets other threads run, and a
tracked run then waits to get the interpreter back. Ids must be unique, not secret: a generator
seeded with 2,500 bytes from the OS, reseeded in every forked child, gives that.
"""
os.register_at_fork(after_in_child=_ids.seed)

_VERSION_4: Final = (0x4 << 76) | (0x2 << 62)
_NOT_VERSION_BITS: Final = ~((0xF << 76) | (0x3 << 62))


def new_record_id() -> str:
    """A random (version 4) UUID as text."""
    digits = f"{_ids.getrandbits(128) & _NOT_VERSION_BITS | _VERSION_4:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class UsageRecord:
    """What one (provider, model) spent on one agent run.

    The fields are the columns of the `token_usage` table, in its order. `input_tokens` includes
    cache reads and writes, as pydantic-ai counts them. `cost_usd` is `None` when the price is
    unknown: a record never carries a guessed cost.
    """

    id: str = field(default_factory=new_record_id)
    created_at: datetime = field(default_factory=_now)
    user_id: str | None = None
    organization_id: str | None = None
    provider: str = "unknown"
    model: str = "unknown"
    tool_name: str | None = None
    operation: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    tool_calls: int = 0
    cost_usd: Decimal | None = None
    cost_source: CostSource = "none"
    duration_ms: int | None = None
    status: RunStatus = "ok"
    error_type: str | None = None
    run_id: str | None = None
    parent_run_id: str | None = None
    agent_name: str | None = None
    request_metadata: dict[str, Any] | None = None


COLUMNS: Final[tuple[str, ...]] = tuple(f.name for f in fields(UsageRecord))
"""The table's columns, in order."""

LEGACY_COLUMNS: Final[frozenset[str]] = frozenset(
    {
        "provider",
        "model",
        "tool_name",
        "operation",
        "input_tokens",
        "output_tokens",
        "user_id",
        "organization_id",
        "cost_usd",
        "duration_ms",
        "request_metadata",
    }
)
"""The columns of the older table layout that tokentrail keeps writing to."""
