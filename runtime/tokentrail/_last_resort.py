"""The file records go to when no store can take them before the process exits.

It is a JSON Lines file in the temporary folder; `tokentrail outbox` and a later store import can
read it back. Writing it is the last step before a record would otherwise be lost.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tokentrail._record import UsageRecord

logger = logging.getLogger(__name__)


def unsaved_records_path() -> Path:
    """This process's file of records that no store accepted."""
    folder = os.environ.get("TOKENTRAIL_OUTBOX_DIR") or tempfile.gettempdir()
    return Path(folder) / f"tokentrail-unsaved-{os.getpid()}.jsonl"


def save_unsaved(records: Sequence[UsageRecord]) -> Path | None:
    """Append `records` to the unsaved-records file and log where they are."""
    if not records:
        return None
    path = unsaved_records_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            for record in records:
                file.write(json.dumps(dataclasses.asdict(record), default=str) + "\n")
    except OSError:
        logger.exception("tokentrail: %d usage record(s) could not be saved anywhere", len(records))
        return None
    logger.error(
        "tokentrail: %d usage record(s) could not reach the store and were saved to %s",
        len(records),
        path,
    )
    return path
