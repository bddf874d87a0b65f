"""Usage records as rows of plain values, and rows as journal lines, outbox payloads and SQL values.

A tracked run writes its records on the caller's thread, so that path carries them in the cheapest
form that still says everything: a *row*, a tuple of JSON values in the table's column order
(`created_at` as ISO 8601 text, `cost_usd` as decimal text, `request_metadata` as a dict). The
journal keeps a row as one JSON array; the outbox keeps it as one JSON object, so that a file
written by an older or newer tokentrail still reads: unknown keys are ignored and missing ones
take the record's defaults.
"""

from __future__ import annotations

import json
import json.encoder
import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from tokentrail._record import COLUMNS, UsageRecord

Row = tuple[Any, ...]
"""One record's values in `COLUMNS` order, each JSON-safe."""

COST_INDEX: Final = COLUMNS.index("cost_usd")
"""Where a row keeps its cost (`None` while unpriced)."""

_METADATA_INDEX: Final = COLUMNS.index("request_metadata")
_CREATED_AT_INDEX: Final = COLUMNS.index("created_at")
_VALUES: Final = operator.attrgetter(*COLUMNS)


def _compact_encoder() -> Callable[[Any], str]:
    """Compact JSON, `repr` for values JSON has no type for, through the C encoder directly.

    `JSONEncoder.encode` builds a new C encoder on every call; for one short line per agent run
    that set-up is over a third of the cost. Where the C encoder is missing or takes other
    arguments, the standard call is used.
    """
    standard = json.JSONEncoder(separators=(",", ":"), default=repr).encode
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:
        return standard
    try:
        encode = make_encoder(
            None, repr, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
        )
    except TypeError:
        return standard
    return lambda value: "".join(encode(value, 0))


_ENCODE: Final = _compact_encoder()


def record_to_row(record: UsageRecord) -> Row:
    """`record` as a row."""
    values = list(_VALUES(record))
    values[_CREATED_AT_INDEX] = record.created_at.isoformat()
    if record.cost_usd is not None:
        values[COST_INDEX] = str(record.cost_usd)
    return tuple(values)


def record_from_row(row: Sequence[Any]) -> UsageRecord:
    """The record a row describes."""
    return _record(dict(zip(COLUMNS, row, strict=True)))


def row_to_line(row: Row) -> str:
    """A row as one compact JSON array (a journal line, without its line end)."""
    return _ENCODE(row)


def row_from_line(line: str | bytes) -> Row:
    """The row a journal line holds: a JSON array, or a JSON object written by older versions."""
    value = json.loads(line)
    if isinstance(value, dict):
        return record_to_row(_record(value))
    if not isinstance(value, list) or len(value) != len(COLUMNS):
        raise ValueError(f"not a usage row: {str(line)[:80]!r}")
    return tuple(value)


def rows_from_lines(lines: Sequence[bytes]) -> list[Row]:
    """The rows of many journal lines, parsed in one call.

    Raises:
        ValueError: a line is not valid JSON or not a usage row; parse them one by one with
            `row_from_line` to find which.
    """
    values = json.loads(b"[" + b",".join(lines) + b"]")
    if not all(isinstance(value, list) and len(value) == len(COLUMNS) for value in values):
        raise ValueError("not every line is a usage row")
    return [tuple(value) for value in values]


def rows_to_json(rows: Sequence[Row]) -> str:
    """Rows as one JSON array of arrays, encoded in one call: a batch for a server to parse.

    About a quarter of what objects keyed by column cost to encode.
    """
    return _ENCODE(list(rows))


def row_to_payload(row: Row) -> str:
    """A row as the outbox keeps it: one compact JSON object keyed by column."""
    return _ENCODE(dict(zip(COLUMNS, row, strict=True)))


def row_to_sql_values(row: Row) -> Row:
    """A row as SQLite values: the metadata as JSON text."""
    metadata = row[_METADATA_INDEX]
    if metadata is None:
        return row
    values = list(row)
    values[_METADATA_INDEX] = json.dumps(metadata, sort_keys=True, default=str)
    return tuple(values)


def record_to_json(record: UsageRecord) -> str:
    """One record as a compact JSON object (the outbox's payload)."""
    return row_to_payload(record_to_row(record))


def record_from_json(payload: str) -> UsageRecord:
    """The record a payload written by `record_to_json` (or a journal line) describes."""
    value = json.loads(payload)
    if isinstance(value, list):
        return record_from_row(value)
    return _record(value)


def _record(values: dict[str, Any]) -> UsageRecord:
    known = {key: value for key, value in values.items() if key in COLUMNS}
    if isinstance(known.get("created_at"), str):
        known["created_at"] = datetime.fromisoformat(known["created_at"])
    if known.get("cost_usd") is not None:
        known["cost_usd"] = Decimal(str(known["cost_usd"]))
    return UsageRecord(**known)
