"""One record a store cannot take must not hold back the records around it.

Each poisoned record is handed over between ten good ones. Whatever the store does with the
poisoned one (stores it, or sets it aside in the dead-letter table and says so), the ten good
ones must all be stored, once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.hardening.store_rows import stored_operations

from tokentrail import UsageRecord, UsageTracker

POISONS = {
    "integer-beyond-64-bits": UsageRecord(operation="poisoned", input_tokens=2**70),
    "negative-token-count": UsageRecord(operation="poisoned", output_tokens=-1),
    "nul-character": UsageRecord(operation="poisoned", model="model\x00name"),
    "lone-surrogate-in-metadata": UsageRecord(
        operation="poisoned", request_metadata={"note": "\ud800"}
    ),
}


def _dead_letter_ids(outbox: Path, store_url: str) -> set[str]:
    """Ids in the outboxes' dead-letter tables, and in the embedded store's own."""
    found: set[str] = set()
    databases = list(outbox.rglob("*.outbox"))
    if store_url.startswith("sqlite"):
        databases.append(Path(store_url.removeprefix("sqlite:///")))
    for path in databases:
        connection = sqlite3.connect(path)
        try:
            found |= {row[0] for row in connection.execute("SELECT id FROM dead_letter")}
        finally:
            connection.close()
    return found


@pytest.mark.parametrize("poison", list(POISONS))
def test_a_poisoned_record_does_not_hold_back_the_others(
    store_url: str, tracker: UsageTracker, poison: str, tmp_path: Path
) -> None:
    poisoned = POISONS[poison]
    for number in range(5):
        tracker.track("u", "o", UsageRecord(operation=f"good-{number}"))
    tracker.track("u", "o", poisoned)
    for number in range(5, 10):
        tracker.track("u", "o", UsageRecord(operation=f"good-{number}"))
    tracker.flush(30)

    operations = stored_operations(store_url)
    good = sorted(operation for operation in operations if operation.startswith("good-"))
    assert good == sorted(f"good-{number}" for number in range(10))
    stored_poison = operations.count("poisoned")
    set_aside = poisoned.id in _dead_letter_ids(tmp_path / "outbox", store_url)
    assert stored_poison + set_aside == 1, "the poisoned record is stored or set aside, once"
