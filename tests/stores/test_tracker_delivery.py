"""End to end: a real pydantic-ai agent run, tracked, lands in PostgreSQL through the outbox."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pydantic_ai import Agent
from pydantic_ai.models.test import TestModel

from tokentrail import UsageTracker, run_agent_sync_with_tracking
from tokentrail.stores import schema
from tokentrail.stores.journal import JournaledStore
from tokentrail.stores.outbox import Outbox

pytestmark = pytest.mark.postgres


def test_a_tracked_run_reaches_postgres(postgres_url: str, outbox_dir: Path) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)
    tracker = UsageTracker(postgres_url)
    agent = Agent(TestModel(), name="tagline_writer")

    result = run_agent_sync_with_tracking(
        agent,
        "tagline",
        tracker=tracker,
        user_id="user-1",
        organization_id="org-a",
        tool_name="tagline_service",
        operation="write",
    )
    flushed = tracker.flush(10)
    closed = tracker.close(10)

    assert result.output
    assert flushed.pending == 0
    assert closed.pending == 0
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute(
            "SELECT user_id, organization_id, provider, model, tool_name, operation, "
            "input_tokens, output_tokens, requests, status, agent_name FROM token_usage"
        ).fetchall()
    assert rows == [
        ("user-1", "org-a", "test", "test", "tagline_service", "write", 51, 4, 1, "ok",
         "tagline_writer")
    ]  # fmt: skip
    assert not any(outbox_dir.rglob(f"*{'.outbox'}"))


def test_the_tracker_opens_an_outbox_for_a_postgres_url(
    postgres_url: str, outbox_dir: Path
) -> None:
    from tokentrail.stores import open_sink

    sink = open_sink(postgres_url)
    try:
        assert isinstance(sink, JournaledStore)
        assert isinstance(sink.store, Outbox)
        assert sink.name.startswith("postgres-127.0.0.1-")
    finally:
        sink.close(1)
