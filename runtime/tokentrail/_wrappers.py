"""The six tracked ways to run an agent.

Each wrapper takes the agent, forwards `*args` and `**kwargs` to the agent's own method unchanged,
and returns what that method returns; the agent's exceptions propagate unchanged. The tracking
keywords (`tracker`, `user_id`, `organization_id`, `tool_name`, `operation`) are taken out first.
Typing: overloads give the bare call's result type for the agent's output type and for
`output_type=`; other keywords pass through unchecked.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from tokentrail import _inflight
from tokentrail._run import TrackedRun, status_of
from tokentrail._tracked_blocks import TrackedAsyncBlock, TrackedEventStream, TrackedSyncBlock

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager, AbstractContextManager

    from pydantic_ai.agent import AbstractAgent, AgentRunEvents
    from pydantic_ai.messages import UserContent
    from pydantic_ai.output import OutputSpec
    from pydantic_ai.result import StreamedRunResult, StreamedRunResultSync
    from pydantic_ai.run import AgentRun, AgentRunResult

    from tokentrail._tracker import UsageTracker

    Prompt = str | Sequence[UserContent] | None

_DepsT = TypeVar("_DepsT")
_OutputT = TypeVar("_OutputT")
_RunOutputT = TypeVar("_RunOutputT")

# Depth from TrackedRun's caller to the user's frame: wrapper body -> user code.
_USER_FRAME = 1


def _start(
    agent: Any,
    method: str,
    kwargs: dict[str, Any],
    tracking: dict[str, Any],
    caller_depth: int,
) -> TrackedRun:
    service = None
    if tracking["user_id"] is not None or tracking["organization_id"] is not None:
        service = _inflight.calling_service(caller_depth + 1)
    return TrackedRun(agent, method, kwargs, service=service, **tracking)


def _name_as_the_bare_call_would(agent: Any, kwargs: dict[str, Any]) -> None:
    """Name an unnamed agent after the caller's variable, as calling its method directly would.

    pydantic-ai names an agent after the variable that holds it in the frame calling the run
    method. Through a wrapper that frame is tokentrail's: the agent would be named `agent` (the
    wrapper's parameter) or left unnamed, which changes the agent's spans and the records'
    `agent_name`. So each wrapper looks in its own caller's frame, through pydantic-ai's own
    lookup, and tells the agent not to look again. Called by the wrapper the user calls.
    """
    infer = getattr(agent, "_infer_name", None)
    if infer is None or not kwargs.get("infer_name", True):
        return
    if agent.name is None:
        infer(sys._getframe(1))  # pydantic-ai looks in the frame above the one it is given
    kwargs["infer_name"] = False


# ---------------------------------------------------------------------------------------------
# agent.run


@overload
async def run_agent_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: None = None,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AgentRunResult[_OutputT]: ...


@overload
async def run_agent_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: OutputSpec[_RunOutputT],
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AgentRunResult[_RunOutputT]: ...


async def run_agent_with_tracking(
    agent: Any,
    *args: Any,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> Any:
    """`await agent.run(*args, **kwargs)`, recorded."""
    _name_as_the_bare_call_would(agent, kwargs)
    tracking = _tracking_keywords(tracker, user_id, organization_id, tool_name, operation)
    run = _start(agent, "run", kwargs, tracking, _USER_FRAME)
    try:
        result = await agent.run(*args, **kwargs)
    except BaseException as error:
        run.finish(status=status_of(error), error=error)
        raise
    run.finish(status="ok", result=result)
    return result


def _tracking_keywords(
    tracker: UsageTracker | None,
    user_id: str | None,
    organization_id: str | None,
    tool_name: str | None,
    operation: str | None,
) -> dict[str, Any]:
    """The tracking keywords as the dict `TrackedRun` takes."""
    return {
        "tracker": tracker,
        "user_id": user_id,
        "organization_id": organization_id,
        "tool_name": tool_name,
        "operation": operation,
    }


# ---------------------------------------------------------------------------------------------
# agent.run_sync


@overload
def run_agent_sync_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: None = None,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AgentRunResult[_OutputT]: ...


@overload
def run_agent_sync_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: OutputSpec[_RunOutputT],
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AgentRunResult[_RunOutputT]: ...


def run_agent_sync_with_tracking(
    agent: Any,
    *args: Any,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> Any:
    """`agent.run_sync(*args, **kwargs)`, recorded once."""
    _name_as_the_bare_call_would(agent, kwargs)
    tracking = _tracking_keywords(tracker, user_id, organization_id, tool_name, operation)
    run = _start(agent, "run_sync", kwargs, tracking, _USER_FRAME)
    try:
        result = agent.run_sync(*args, **kwargs)
    except BaseException as error:
        run.finish(status=status_of(error), error=error)
        raise
    run.finish(status="ok", result=result)
    return result


# ---------------------------------------------------------------------------------------------
# Context-manager runs: run_stream, iter, run_stream_sync


@overload
def run_agent_stream_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: None = None,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractAsyncContextManager[StreamedRunResult[_DepsT, _OutputT]]: ...


@overload
def run_agent_stream_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: OutputSpec[_RunOutputT],
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractAsyncContextManager[StreamedRunResult[_DepsT, _RunOutputT]]: ...


def run_agent_stream_with_tracking(
    agent: Any,
    *args: Any,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> Any:
    """`async with agent.run_stream(*args, **kwargs) as result:`, recorded when the block ends.

    A stream left before it completed is recorded as `cancelled` with the usage consumed so far.
    """
    _name_as_the_bare_call_would(agent, kwargs)
    tracking = _tracking_keywords(tracker, user_id, organization_id, tool_name, operation)
    return TrackedAsyncBlock[Any](
        agent, "run_stream", args, kwargs, tracking, _service_of_caller(tracking)
    )


@overload
def run_agent_iter_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: None = None,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractAsyncContextManager[AgentRun[_DepsT, _OutputT]]: ...


@overload
def run_agent_iter_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: OutputSpec[_RunOutputT],
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractAsyncContextManager[AgentRun[_DepsT, _RunOutputT]]: ...


def run_agent_iter_with_tracking(
    agent: Any,
    *args: Any,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> Any:
    """`async with agent.iter(*args, **kwargs) as run:`, recorded when the block ends.

    A run left before it reached its end is recorded as `cancelled` with the usage so far.
    """
    tracking = _tracking_keywords(tracker, user_id, organization_id, tool_name, operation)
    return TrackedAsyncBlock[Any](
        agent, "iter", args, kwargs, tracking, _service_of_caller(tracking)
    )


def _service_of_caller(tracking: dict[str, Any]) -> object | None:
    if tracking["user_id"] is None and tracking["organization_id"] is None:
        return None
    # wrapper -> user code
    return _inflight.calling_service(2)


@overload
def run_agent_stream_sync_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: None = None,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractContextManager[StreamedRunResultSync[_DepsT, _OutputT]]: ...


@overload
def run_agent_stream_sync_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    user_prompt: Prompt = None,
    *,
    output_type: OutputSpec[_RunOutputT],
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractContextManager[StreamedRunResultSync[_DepsT, _RunOutputT]]: ...


def run_agent_stream_sync_with_tracking(
    agent: Any,
    *args: Any,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> Any:
    """`with agent.run_stream_sync(*args, **kwargs) as result:`, recorded when the block ends.

    Raises:
        TypeError: the installed pydantic-ai has no `run_stream_sync` (it arrived during 1.x).
    """
    _name_as_the_bare_call_would(agent, kwargs)
    tracking = _tracking_keywords(tracker, user_id, organization_id, tool_name, operation)
    return TrackedSyncBlock[Any](
        agent, "run_stream_sync", args, kwargs, tracking, _service_of_caller(tracking)
    )


# ---------------------------------------------------------------------------------------------
# agent.run_stream_events


def run_agent_stream_events_with_tracking(
    agent: AbstractAgent[_DepsT, _OutputT],
    *args: Any,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
    tool_name: str | None = None,
    operation: str | None = None,
    **kwargs: Any,
) -> AbstractAsyncContextManager[AgentRunEvents[Any]]:
    """`agent.run_stream_events(*args, **kwargs)`, used as the installed version uses it.

    On 2.x: `async with run_agent_stream_events_with_tracking(agent, p) as events:`; late 1.x
    also allows `async for event in run_agent_stream_events_with_tracking(agent, p)`.

    Raises:
        TypeError: the installed pydantic-ai has no `run_stream_events` (it arrived during 1.x).
    """
    _name_as_the_bare_call_would(agent, kwargs)
    tracking = _tracking_keywords(tracker, user_id, organization_id, tool_name, operation)
    stream: Any = TrackedEventStream(agent, args, kwargs, tracking, _service_of_caller(tracking))
    return stream  # type: ignore[no-any-return]  # it is also async-iterable on late 1.x
