"""Every wrapper, on real agents: the agent's result comes back unchanged and one record lands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic_ai import Agent

from tokentrail import (
    UsageTracker,
    run_agent_iter_with_tracking,
    run_agent_stream_events_with_tracking,
    run_agent_stream_sync_with_tracking,
    run_agent_stream_with_tracking,
    run_agent_sync_with_tracking,
    run_agent_with_tracking,
)

from .conftest import read_rows

needs_stream_sync = pytest.mark.skipif(
    not hasattr(Agent, "run_stream_sync"), reason="this pydantic-ai has no run_stream_sync"
)
needs_stream_events = pytest.mark.skipif(
    not hasattr(Agent, "run_stream_events"), reason="this pydantic-ai has no run_stream_events"
)


def test_run_sync_returns_the_agents_result_and_records_once(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")
    bare = agent.run_sync("hello")

    result = run_agent_sync_with_tracking(
        agent,
        "hello",
        tracker=tracker,
        user_id="u1",
        organization_id="o1",
        tool_name="greeter",
        operation="greet",
    )

    assert result.output == bare.output
    [row] = read_rows(tracker, store_path)
    assert (row["user_id"], row["organization_id"]) == ("u1", "o1")
    assert (row["tool_name"], row["operation"]) == ("greeter", "greet")
    assert (row["provider"], row["model"]) == ("test", "test")
    assert (row["input_tokens"], row["output_tokens"], row["requests"]) == (51, 4, 1)
    assert row["status"] == "ok"
    assert row["error_type"] is None
    assert row["duration_ms"] >= 0


async def test_run_records_the_run(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test", name="writer")

    result = await run_agent_with_tracking(agent, "two words", tracker=tracker, operation="write")

    assert isinstance(result.output, str)
    [row] = read_rows(tracker, store_path)
    assert row["input_tokens"] == 52
    assert row["agent_name"] == "writer"
    assert row["run_id"]


async def test_run_stream_read_to_the_end_is_ok(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    async with run_agent_stream_with_tracking(agent, "stream", tracker=tracker) as stream:
        chunks = [chunk async for chunk in stream.stream_output()]

    assert chunks
    [row] = read_rows(tracker, store_path)
    assert row["status"] == "ok"
    assert row["output_tokens"] > 0


async def test_run_stream_left_early_is_cancelled_with_partial_usage(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    async with run_agent_stream_with_tracking(agent, "stream", tracker=tracker):
        pass

    [row] = read_rows(tracker, store_path)
    assert row["status"] == "cancelled"
    assert row["requests"] == 1


async def test_iter_records_when_the_run_ends(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    async with run_agent_iter_with_tracking(agent, "iterate", tracker=tracker) as run:
        nodes = [node async for node in run]

    assert nodes
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["input_tokens"], row["output_tokens"]) == ("ok", 51, 4)


async def test_iter_left_early_is_cancelled(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    async with run_agent_iter_with_tracking(agent, "iterate", tracker=tracker) as run:
        async for _node in run:
            break

    [row] = read_rows(tracker, store_path)
    assert row["status"] == "cancelled"


@needs_stream_sync
def test_run_stream_sync(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    with run_agent_stream_sync_with_tracking(agent, "sync stream", tracker=tracker) as stream:
        chunks = list(stream.stream_output())

    assert chunks
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["input_tokens"]) == ("ok", 52)


@needs_stream_events
async def test_run_stream_events(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    async with run_agent_stream_events_with_tracking(agent, "events", tracker=tracker) as events:
        kinds = [getattr(event, "event_kind", None) async for event in events]

    assert "agent_run_result" in kinds
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["input_tokens"], row["output_tokens"]) == ("ok", 51, 4)


def test_missing_methods_raise_a_type_error_that_names_them() -> None:
    class OldAgent:
        """Stands for an agent from a pydantic-ai release without the newer run methods."""

    with pytest.raises(TypeError, match="run_stream_sync"):
        run_agent_stream_sync_with_tracking(OldAgent()).__enter__()  # type: ignore[call-overload]  # on purpose
    with pytest.raises(TypeError, match="run_stream_events"):
        run_agent_stream_events_with_tracking(OldAgent())  # type: ignore[arg-type]  # on purpose


def test_run_sync_inside_a_running_loop_raises_the_agents_error(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    async def call_sync_inside_loop() -> None:
        run_agent_sync_with_tracking(agent, "x", tracker=tracker)

    with pytest.raises(RuntimeError):
        asyncio.run(call_sync_inside_loop())
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["error_type"]) == ("error", "RuntimeError")
