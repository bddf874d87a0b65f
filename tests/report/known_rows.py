"""Usage records with known figures, for checking the report's sums by hand.

The rows are chosen so every rule of the report shows in the sums: a run served by two models
(one run, two records), a row without a run id, a row with no known cost, a row whose local time
falls on another UTC day, and a row with no organization.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from tokentrail import UsageRecord


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


KNOWN_ROWS: tuple[UsageRecord, ...] = (
    UsageRecord(
        created_at=_at("2026-11-30T10:00:00+00:00"),
        organization_id="org-acme",
        user_id="user-ana",
        provider="openai",
        model="gpt-4o",
        tool_name="headline_service",
        operation="suggest",
        input_tokens=1000,
        output_tokens=200,
        requests=1,
        cost_usd=Decimal("0.0045"),
        cost_source="pydantic-ai",
        duration_ms=900,
        run_id="run-1",
    ),
    UsageRecord(
        created_at=_at("2026-12-01T09:00:00+00:00"),
        organization_id="org-acme",
        user_id="user-ana",
        provider="anthropic",
        model="claude-sonnet-4-5",
        tool_name="campaign_service",
        operation="plan",
        input_tokens=3000,
        output_tokens=500,
        cache_read_tokens=1200,
        requests=2,
        tool_calls=2,
        cost_usd=Decimal("0.0165"),
        cost_source="pydantic-ai",
        duration_ms=2000,
        run_id="run-2",
    ),
    UsageRecord(
        created_at=_at("2026-12-01T09:00:00+00:00"),
        organization_id="org-acme",
        user_id="user-ana",
        provider="openai",
        model="gpt-4o",
        tool_name="campaign_service",
        operation="plan",
        input_tokens=400,
        output_tokens=100,
        requests=1,
        cost_usd=Decimal("0.002"),
        cost_source="genai-prices",
        duration_ms=2000,
        run_id="run-2",
    ),
    UsageRecord(
        # 23:30 in UTC-2 is 01:30 the next day in UTC.
        created_at=datetime(2026, 12, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
        organization_id="org-acme",
        user_id="user-cleo",
        provider="openai",
        model="gpt-4o-mini",
        tool_name="seo_service",
        operation="meta_description",
        input_tokens=500,
        output_tokens=50,
        cache_write_tokens=100,
        requests=1,
        cost_usd=None,
        cost_source="none",
        duration_ms=300,
        run_id="run-3",
    ),
    UsageRecord(
        created_at=_at("2026-12-02T12:00:00+00:00"),
        organization_id="org-northwind",
        user_id="user-ben",
        provider="openai",
        model="gpt-4o",
        tool_name="headline_service",
        operation="suggest",
        input_tokens=2000,
        output_tokens=300,
        requests=1,
        cost_usd=Decimal("0.008"),
        cost_source="pydantic-ai",
        duration_ms=1500,
        run_id="run-4",
    ),
    UsageRecord(
        created_at=_at("2026-12-02T12:05:00+00:00"),
        organization_id="org-northwind",
        user_id="user-ben",
        provider="openai",
        model="gpt-4o",
        tool_name="headline_service",
        operation="suggest",
        input_tokens=100,
        cost_usd=Decimal("0"),
        cost_source="pydantic-ai",
        duration_ms=40,
        status="error",
        error_type="ModelHTTPError",
        run_id=None,
    ),
    UsageRecord(
        created_at=_at("2026-12-03T08:00:00+00:00"),
        provider="openai",
        model="gpt-4o-mini",
        tool_name="digest",
        operation="<module>",
        input_tokens=700,
        output_tokens=70,
        requests=1,
        cost_usd=Decimal("0.0001234567"),
        cost_source="genai-prices",
        duration_ms=700,
        run_id="run-5",
    ),
)
