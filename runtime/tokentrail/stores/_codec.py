"""Turning usage records into outbox text and store rows, and back.

The outbox keeps each record as one JSON object so that a file written by an older or newer
tokentrail still reads: unknown keys are ignored and missing ones take the record's defaults.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from tokentrail._record import COLUMNS, UsageRecord


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    # Metadata is meant to be JSON-safe; anything else is kept readable rather than refused.
    return repr(value)


def record_to_json(record: UsageRecord) -> str:
    """One record as a compact JSON object (the outbox's payload)."""
    values = {column: getattr(record, column) for column in COLUMNS}
    return json.dumps(values, default=_json_default, separators=(",", ":"))


def record_from_json(payload: str) -> UsageRecord:
    """The record a payload written by `record_to_json` describes."""
    values: dict[str, Any] = {
        key: value for key, value in json.loads(payload).items() if key in COLUMNS
    }
    if isinstance(values.get("created_at"), str):
        values["created_at"] = datetime.fromisoformat(values["created_at"])
    if values.get("cost_usd") is not None:
        values["cost_usd"] = Decimal(str(values["cost_usd"]))
    return UsageRecord(**values)
