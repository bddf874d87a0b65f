"""An unnamed agent is named through a wrapper exactly as a direct call would name it.

pydantic-ai names an agent after the caller's variable; a wrapper must not put its own frame in
the caller's place (naming every agent `agent`), because the name goes into the agent's spans and
the records' `agent_name`. Each case compares against the bare call on the installed version.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import Agent

import tokentrail
from tokentrail import UsageTracker

from .conftest import read_rows

METHODS = [
    "run",
    "run_sync",
    "run_stream",
    pytest.param(
        "run_stream_sync",
        marks=pytest.mark.skipif(
            not hasattr(Agent, "run_stream_sync"), reason="this pydantic-ai has no run_stream_sync"
        ),
    ),
    pytest.param(
        "run_stream_events",
        marks=pytest.mark.skipif(
            not hasattr(Agent, "run_stream_events"),
            reason="this pydantic-ai has no run_stream_events",
        ),
    ),
    "iter",
]


def _entered(opened: Any) -> Any:
    """`opened` as a `with` target: pydantic-ai versions differ in returning a manager or not."""
    return opened if hasattr(opened, "__enter__") else contextlib.nullcontext(opened)


async def _drain_events(opened: Any) -> None:
    if hasattr(opened, "__aenter__"):
        async with opened as events:
            [event async for event in events]
    else:
        [event async for event in opened]


def call_directly(method: str, support_bot: Agent[None, str]) -> None:
    """Run `support_bot` with `method`, called straight from this frame."""

    async def run_async() -> None:
        if method == "run":
            await support_bot.run("hi")
        elif method == "run_stream":
            async with support_bot.run_stream("hi") as stream:
                await stream.get_output()
        elif method == "run_stream_events":
            await _drain_events(support_bot.run_stream_events("hi"))
        else:
            async with support_bot.iter("hi") as run:
                [node async for node in run]

    if method == "run_sync":
        support_bot.run_sync("hi")
    elif method == "run_stream_sync":
        with _entered(support_bot.run_stream_sync("hi")) as stream:
            stream.get_output()
    else:
        asyncio.run(run_async())


def call_tracked(method: str, support_bot: Agent[None, str], tracker: UsageTracker) -> None:
    """Run `support_bot` through the wrapper for `method`, called straight from this frame."""

    async def run_async() -> None:
        if method == "run":
            await tokentrail.run_agent_with_tracking(support_bot, "hi", tracker=tracker)
        elif method == "run_stream":
            async with tokentrail.run_agent_stream_with_tracking(
                support_bot, "hi", tracker=tracker
            ) as stream:
                await stream.get_output()
        elif method == "run_stream_events":
            await _drain_events(
                tokentrail.run_agent_stream_events_with_tracking(support_bot, "hi", tracker=tracker)
            )
        else:
            async with tokentrail.run_agent_iter_with_tracking(
                support_bot, "hi", tracker=tracker
            ) as run:
                [node async for node in run]

    if method == "run_sync":
        tokentrail.run_agent_sync_with_tracking(support_bot, "hi", tracker=tracker)
    elif method == "run_stream_sync":
        with tokentrail.run_agent_stream_sync_with_tracking(
            support_bot, "hi", tracker=tracker
        ) as stream:
            stream.get_output()
    else:
        asyncio.run(run_async())


@pytest.mark.parametrize("method", METHODS)
def test_a_tracked_run_names_the_agent_as_a_direct_run_does(
    method: str, tracker: UsageTracker, store_path: Path
) -> None:
    directly_run: Agent[None, str] = Agent("test")
    tracked: Agent[None, str] = Agent("test")

    call_directly(method, directly_run)
    call_tracked(method, tracked, tracker)

    assert tracked.name == directly_run.name
    [row] = read_rows(tracker, store_path)
    assert row["agent_name"] == tracked.name


@pytest.mark.parametrize("method", ["run", "run_sync"])
def test_the_name_comes_from_the_callers_variable(
    method: str, tracker: UsageTracker, store_path: Path
) -> None:
    agent: Agent[None, str] = Agent("test")

    call_tracked(method, agent, tracker)

    assert agent.name == "support_bot"
    assert read_rows(tracker, store_path)[0]["agent_name"] == "support_bot"


def test_a_named_agent_and_an_explicit_infer_name_are_left_alone(
    tracker: UsageTracker, store_path: Path
) -> None:
    named: Agent[None, str] = Agent("test", name="writer")
    unnamed: Agent[None, str] = Agent("test")

    tokentrail.run_agent_sync_with_tracking(named, "hi", tracker=tracker)
    tokentrail.run_agent_sync_with_tracking(unnamed, "hi", tracker=tracker, infer_name=False)

    assert (named.name, unnamed.name) == ("writer", None)
    assert sorted(str(row["agent_name"]) for row in read_rows(tracker, store_path)) == [
        "None",
        "writer",
    ]
