"""Checked by `mypy --strict` in CI (not collected by pytest): the wrappers keep the agent's types.

Each `assert_type` fails the type check if a wrapper's overloads stop giving the bare call's
result type, for the agent's own output type and for `output_type=`.
"""

from __future__ import annotations

from typing import assert_type

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.result import StreamedRunResult, StreamedRunResultSync
from pydantic_ai.run import AgentRun, AgentRunResult

from tokentrail import (
    run_agent_iter_with_tracking,
    run_agent_stream_sync_with_tracking,
    run_agent_stream_with_tracking,
    run_agent_sync_with_tracking,
    run_agent_with_tracking,
)


class Headline(BaseModel):
    text: str


class Deps:
    pass


text_agent = Agent("test", deps_type=Deps, output_type=str)


async def run_types(deps: Deps) -> None:
    result = await run_agent_with_tracking(text_agent, "x", deps=deps, tool_name="t")
    assert_type(result, AgentRunResult[str])
    assert_type(result.output, str)

    structured = await run_agent_with_tracking(text_agent, "x", output_type=Headline, deps=deps)
    assert_type(structured.output, Headline)

    async with run_agent_stream_with_tracking(text_agent, "x", deps=deps) as stream:
        assert_type(stream, StreamedRunResult[Deps, str])

    async with run_agent_stream_with_tracking(text_agent, "x", output_type=Headline) as typed:
        assert_type(typed, StreamedRunResult[Deps, Headline])

    async with run_agent_iter_with_tracking(text_agent, "x", deps=deps) as run:
        assert_type(run, AgentRun[Deps, str])

    async with run_agent_iter_with_tracking(text_agent, "x", output_type=int) as counted:
        assert_type(counted, AgentRun[Deps, int])


def sync_types(deps: Deps) -> None:
    result = run_agent_sync_with_tracking(text_agent, "x", deps=deps, operation="o")
    assert_type(result.output, str)
    assert_type(run_agent_sync_with_tracking(text_agent, output_type=int), AgentRunResult[int])

    with run_agent_stream_sync_with_tracking(text_agent, "x", deps=deps) as stream:
        assert_type(stream, StreamedRunResultSync[Deps, str])
    with run_agent_stream_sync_with_tracking(text_agent, "x", output_type=Headline) as typed:
        assert_type(typed, StreamedRunResultSync[Deps, Headline])
