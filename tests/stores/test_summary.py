"""`tracker.summary`: totals read back from the store, summed by the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tokentrail import UsageRecord, UsageTracker
from tokentrail.stores._summary import SummaryRow
from tokentrail.stores.cli import main as store_cli

DAY = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
RECORDS = [
    UsageRecord(
        created_at=DAY,
        organization_id="org-a",
        tool_name="writer",
        model="gpt-4o",
        input_tokens=100,
        output_tokens=10,
        requests=1,
        cost_usd=Decimal("0.0012345678"),
    ),
    UsageRecord(
        created_at=DAY + timedelta(hours=20),
        organization_id="org-a",
        tool_name="writer",
        model="claude-sonnet-4-5",
        input_tokens=200,
        output_tokens=20,
        requests=2,
        cost_usd=Decimal("0.5"),
    ),
    UsageRecord(
        created_at=DAY + timedelta(hours=1),
        organization_id="org-a",
        tool_name="editor",
        provider="acme",
        model="in-house-7b",
        input_tokens=7,
        requests=1,
    ),
    UsageRecord(created_at=DAY, organization_id="org-b", model="gpt-4o", input_tokens=999),
    UsageRecord(created_at=DAY - timedelta(days=30), organization_id="org-a", input_tokens=5),
]
SPAN = (DAY - timedelta(days=1), DAY + timedelta(days=2))


def stored(tracker: UsageTracker) -> UsageTracker:
    for record in RECORDS:
        tracker.track(record.user_id, record.organization_id, record)
    return tracker


@pytest.fixture(params=["sqlite", "postgres"])
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UsageTracker]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'usage.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        request.getfixturevalue("outbox_dir")
        assert store_cli(["init", url]) == 0
    tracker = stored(UsageTracker(url))
    assert tracker.flush(30).pending == 0
    yield tracker
    tracker.close()


def test_totals_per_day_count_only_the_organization_and_span(tracker: UsageTracker) -> None:
    rows = tracker.summary("org-a", *SPAN)

    assert [row.bucket for row in rows] == ["2026-11-02", "2026-11-03"]
    first, second = rows
    assert (first.records, first.input_tokens, first.output_tokens) == (2, 107, 10)
    assert first.cost_usd == Decimal("0.0012345678")
    assert first.unpriced_records == 1
    assert (second.records, second.requests, second.cost_usd) == (1, 2, Decimal("0.5"))


def test_totals_per_tool_and_model(tracker: UsageTracker) -> None:
    by_tool = {row.bucket: row for row in tracker.summary("org-a", *SPAN, group_by="tool")}
    by_model = {row.bucket: row for row in tracker.summary("org-a", *SPAN, group_by="model")}

    assert by_tool["writer"].input_tokens == 300
    assert by_tool["editor"].cost_usd is None
    assert by_model["gpt-4o"].records == 1
    assert by_model["in-house-7b"].unpriced_records == 1
    assert by_model["claude-sonnet-4-5"].output_tokens == 20


def test_an_unknown_grouping_is_refused(tracker: UsageTracker) -> None:
    with pytest.raises(ValueError, match="group_by"):
        tracker.summary("org-a", *SPAN, group_by="weekday")  # type: ignore[arg-type]  # wrong


def test_a_store_without_sums_says_so(tmp_path: Path) -> None:
    class ListStore:
        name = "list"

        def append(self, records: list[UsageRecord]) -> None: ...

        def set_costs(self, costs: object) -> None: ...

        def flush(self, timeout: float | None = None) -> object: ...

        def close(self, timeout: float | None = None) -> object: ...

    with pytest.raises(TypeError, match="does not offer summaries"):
        UsageTracker(ListStore()).summary("org-a", *SPAN)


def test_rows_are_summary_rows(tracker: UsageTracker) -> None:
    assert all(isinstance(row, SummaryRow) for row in tracker.summary("org-b", *SPAN))
