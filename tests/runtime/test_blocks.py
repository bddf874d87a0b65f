"""The `with`-style wrappers, left in every way: errors in the caller's block, failures as the
agent's stream starts, cancellation, and the `async for` form of `run_stream_events`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.function import AgentInfo, FunctionModel

from tokentrail import (
    UsageTracker,
    run_agent_iter_with_tracking,
    run_agent_stream_events_with_tracking,
    run_agent_stream_sync_with_tracking,
    run_agent_stream_with_tracking,
)

from .conftest import read_rows


class CallerBugError(Exception):
    """Raised by the caller's own code inside a tracked block."""


def dropped_connection() -> list[str]:
    raise ConnectionResetError("stream dropped")


def failing_stream_model() -> FunctionModel:
    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for chunk in dropped_connection():  # pragma: no cover - the stream fails first
            yield chunk

    return FunctionModel(stream_function=stream, model_name="gpt-4o")


async def test_an_error_in_the_callers_block_is_recorded_and_propagates(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    async def fail_after_streaming() -> None:
        async with run_agent_stream_with_tracking(agent, "x", tracker=tracker) as stream:
            await stream.get_output()
            raise CallerBugError

    async def fail_inside_iter() -> None:
        async with run_agent_iter_with_tracking(agent, "y", tracker=tracker):
            raise CallerBugError

    with pytest.raises(CallerBugError):
        await fail_after_streaming()
    with pytest.raises(CallerBugError):
        await fail_inside_iter()

    rows = read_rows(tracker, store_path)
    assert [(row["status"], row["error_type"]) for row in rows] == [
        ("error", "CallerBugError"),
        ("error", "CallerBugError"),
    ]


async def test_a_stream_that_fails_as_it_starts_is_recorded(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent(failing_stream_model())

    with pytest.raises(ConnectionResetError):
        async with run_agent_stream_with_tracking(agent, "x", tracker=tracker):
            pass  # pragma: no cover - the stream never starts

    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["error_type"], row["model"]) == (
        "error",
        "ConnectionResetError",
        "gpt-4o",
    )


async def test_a_cancelled_iter_block_is_cancelled(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    async def iterate_until_cancelled() -> None:
        async with run_agent_iter_with_tracking(agent, "x", tracker=tracker):
            await asyncio.sleep(30)

    task = asyncio.create_task(iterate_until_cancelled())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [row] = read_rows(tracker, store_path)
    assert row["status"] == "cancelled"


@pytest.mark.skipif(not hasattr(Agent, "run_stream_sync"), reason="no run_stream_sync here")
def test_an_error_in_a_sync_stream_block(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    with (
        pytest.raises(CallerBugError),
        run_agent_stream_sync_with_tracking(agent, "x", tracker=tracker),
    ):
        raise CallerBugError

    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["error_type"]) == ("error", "CallerBugError")


@pytest.mark.skipif(not hasattr(Agent, "run_stream_sync"), reason="no run_stream_sync here")
def test_a_sync_stream_that_fails_as_it_starts(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent(failing_stream_model())

    with (
        pytest.raises(ConnectionResetError),
        run_agent_stream_sync_with_tracking(agent, "x", tracker=tracker) as stream,
    ):
        stream.get_output()

    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["error_type"]) == ("error", "ConnectionResetError")


needs_events = pytest.mark.skipif(
    not hasattr(Agent, "run_stream_events"), reason="no run_stream_events here"
)


@needs_events
async def test_an_event_stream_left_early_or_failing(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    async with run_agent_stream_events_with_tracking(agent, "x", tracker=tracker, operation="a"):
        pass

    async def fail_on_the_first_event() -> None:
        async with run_agent_stream_events_with_tracking(
            agent, "y", tracker=tracker, operation="b"
        ) as events:
            async for _event in events:
                raise CallerBugError

    with pytest.raises(CallerBugError):
        await fail_on_the_first_event()

    rows = {row["operation"]: row for row in read_rows(tracker, store_path)}
    assert rows["a"]["status"] == "cancelled"
    assert (rows["b"]["status"], rows["b"]["error_type"]) == ("error", "CallerBugError")


@needs_events
async def test_event_streams_iterated_directly_where_the_version_allows(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")
    probe = agent.run_stream_events("probe")
    if not hasattr(probe, "__aiter__"):
        pytest.skip("this pydantic-ai only offers run_stream_events as a context manager")
    if hasattr(probe, "aclose"):
        await probe.aclose()

    direct = run_agent_stream_events_with_tracking(agent, "x", tracker=tracker)
    with pytest.warns(DeprecationWarning, match="async for"):  # pydantic-ai's own warning
        events = [event async for event in direct]  # type: ignore[attr-defined]  # late 1.x form

    assert events
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["input_tokens"]) == ("ok", 51)


def test_the_command_line_lists_commands_and_rejects_unknown_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tokentrail._cli import main

    assert main(["--help"]) == 0
    assert "codemod" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["bill-everyone"]) == 2
    assert "unknown command 'bill-everyone'" in capsys.readouterr().err
