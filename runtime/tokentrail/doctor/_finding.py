"""What a check found: a status, one line of fact, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "info", "warning", "problem"]
"""`problem` makes the doctor exit 1; `warning` is advice that does not fail it."""


@dataclass(frozen=True)
class Finding:
    """The outcome of one check.

    `summary` states the fact (never a secret); `advice` says what to do, when there is
    something to do.
    """

    check: str
    status: Status
    summary: str
    advice: str | None = None
