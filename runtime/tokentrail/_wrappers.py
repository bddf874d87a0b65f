"""The six tracked ways to run an agent.

Each wrapper takes the agent, forwards `*args` and `**kwargs` to the agent's own method unchanged,
and returns what that method returns; the agent's exceptions propagate unchanged. The tracking
keywords (`tracker`, `user_id`, `organization_id`, `tool_name`, `operation`) are taken out first.
Typing: overloads give the bare call's result type for the agent's output type and for
`output_type=`; other keywords pass through unchecked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from tokentrail import _inflight
from tokentrail._record import RunStatus
from tokentrail._run import TrackedRun, status_of

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
_EnteredT = TypeVar("_EnteredT")

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


def _require(agent: Any, method: str) -> Any:
    bound = getattr(agent, method, None)
    if bound is None:
        raise TypeError(
            f"{type(agent).__name__} has no {method}(): this pydantic-ai version does not "
            f"support it, so run_agent_{_WRAPPER_STEM[method]}_with_tracking cannot be used"
        )
    return bound


_WRAPPER_STEM = {"run_stream_sync": "stream_sync", "run_stream_events": "stream_events"}


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
    tracking = locals_tracking(tracker, user_id, organization_id, tool_name, operation)
    run = _start(agent, "run", kwargs, tracking, _USER_FRAME)
    try:
        result = await agent.run(*args, **kwargs)
    except BaseException as error:
        run.finish(status=status_of(error), error=error)
        raise
    run.finish(status="ok", result=result)
    return result


def locals_tracking(
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
    tracking = locals_tracking(tracker, user_id, organization_id, tool_name, operation)
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


class _TrackedAsyncContext(Generic[_EnteredT]):
    """Enters the agent's async context manager and records the run when it is left."""

    def __init__(
        self,
        agent: Any,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tracking: dict[str, Any],
        service: object | None,
    ) -> None:
        self._agent, self._method, self._args, self._kwargs = agent, method, args, kwargs
        self._tracking, self._service = tracking, service
        self._run: TrackedRun | None = None
        self._inner: Any = None
        self._entered: Any = None

    async def __aenter__(self) -> _EnteredT:
        bound = _require(self._agent, self._method)
        self._run = TrackedRun(
            self._agent, self._method, self._kwargs, service=self._service, **self._tracking
        )
        try:
            self._inner = bound(*self._args, **self._kwargs)
            self._entered = await self._inner.__aenter__()
        except BaseException as error:
            self._run.finish(status=status_of(error), error=error)
            raise
        self._run.started()
        entered: _EnteredT = self._entered
        return entered

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        assert self._run is not None  # __aexit__ follows a successful __aenter__
        try:
            suppressed = await self._inner.__aexit__(error_type, error, traceback)
        except BaseException as exit_error:
            self._run.finish(status=status_of(exit_error), error=exit_error)
            raise
        if error is not None and not suppressed:
            self._run.finish(status=status_of(error), error=error)
        else:
            status: RunStatus = "ok" if _completed(self._entered) else "cancelled"
            self._run.finish(status=status, result=_result_of(self._entered))
        return bool(suppressed)


def _completed(entered: Any) -> bool:
    complete = getattr(entered, "is_complete", None)
    if isinstance(complete, bool):
        return complete
    # An AgentRun is finished when it has a result.
    try:
        return getattr(entered, "result", None) is not None
    except Exception:  # noqa: BLE001 - the result property refuses while the run goes on
        return False


def _result_of(entered: Any) -> Any:
    """What to read a finished run's messages from: the stream itself, or the run's result."""
    if not _completed(entered):
        return None
    if isinstance(getattr(entered, "is_complete", None), bool):
        return entered
    return entered.result


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
    tracking = locals_tracking(tracker, user_id, organization_id, tool_name, operation)
    return _TrackedAsyncContext[Any](
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
    tracking = locals_tracking(tracker, user_id, organization_id, tool_name, operation)
    return _TrackedAsyncContext[Any](
        agent, "iter", args, kwargs, tracking, _service_of_caller(tracking)
    )


def _service_of_caller(tracking: dict[str, Any]) -> object | None:
    if tracking["user_id"] is None and tracking["organization_id"] is None:
        return None
    # wrapper -> user code
    return _inflight.calling_service(2)


class _TrackedSyncContext(Generic[_EnteredT]):
    """`with`-style tracking of `run_stream_sync`, on versions that return a context manager
    and on those that return the started stream itself."""

    def __init__(
        self,
        agent: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tracking: dict[str, Any],
        service: object | None,
    ) -> None:
        self._agent, self._args, self._kwargs = agent, args, kwargs
        self._tracking, self._service = tracking, service
        self._run: TrackedRun | None = None
        self._inner: Any = None
        self._entered: Any = None

    def __enter__(self) -> _EnteredT:
        bound = _require(self._agent, "run_stream_sync")
        self._run = TrackedRun(
            self._agent, "run_stream_sync", self._kwargs, service=self._service, **self._tracking
        )
        try:
            self._inner = bound(*self._args, **self._kwargs)
            enter = getattr(self._inner, "__enter__", None)
            self._entered = enter() if enter is not None else self._inner
        except BaseException as error:
            self._run.finish(status=status_of(error), error=error)
            raise
        self._run.started()
        entered: _EnteredT = self._entered
        return entered

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        assert self._run is not None  # __exit__ follows a successful __enter__
        suppressed: bool | None = False
        try:
            leave = getattr(self._inner, "__exit__", None)
            if leave is not None:
                suppressed = leave(error_type, error, traceback)
        except BaseException as exit_error:
            self._run.finish(status=status_of(exit_error), error=exit_error)
            raise
        if error is not None and not suppressed:
            self._run.finish(status=status_of(error), error=error)
        else:
            status: RunStatus = "ok" if _completed(self._entered) else "cancelled"
            self._run.finish(status=status, result=_result_of(self._entered))
        return bool(suppressed)


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
    tracking = locals_tracking(tracker, user_id, organization_id, tool_name, operation)
    return _TrackedSyncContext[Any](agent, args, kwargs, tracking, _service_of_caller(tracking))


# ---------------------------------------------------------------------------------------------
# agent.run_stream_events


class _TrackedEventStream:
    """Tracks `run_stream_events` used as an async context manager (2.x) or iterated directly
    (late 1.x); the run is recorded when the context is left or the iteration ends."""

    def __init__(
        self,
        agent: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        tracking: dict[str, Any],
        service: object | None,
    ) -> None:
        bound = _require(agent, "run_stream_events")
        self._run = TrackedRun(agent, "run_stream_events", kwargs, service=service, **tracking)
        try:
            self._inner = bound(*args, **kwargs)
        except BaseException as error:
            self._run.finish(status=status_of(error), error=error)
            raise
        self._events: Any = None
        self._result: Any = None

    async def __aenter__(self) -> AsyncIterator[Any]:
        enter = getattr(self._inner, "__aenter__", None)
        try:
            self._events = await enter() if enter is not None else self._inner
        except BaseException as error:
            self._run.finish(status=status_of(error), error=error)
            raise
        return self._watch(self._events)

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        suppressed: bool | None = False
        try:
            leave = getattr(self._inner, "__aexit__", None)
            if leave is not None:
                suppressed = await leave(error_type, error, traceback)
        except BaseException as exit_error:
            self._finish_with(exit_error)
            raise
        self._finish_with(None if suppressed else error)
        return bool(suppressed)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._watch_and_finish(self._inner)

    async def _watch(self, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        # The run starts in a background task on the first event, copying the context (and the
        # wrapper's mark) then; after that the caller's own code must not inherit the mark.
        async for event in events:
            self._run.started()
            if getattr(event, "event_kind", None) == "agent_run_result":
                self._result = event.result
            yield event

    async def _watch_and_finish(self, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        try:
            async for event in self._watch(events):
                yield event
        except BaseException as error:
            self._finish_with(error)
            raise
        self._finish_with(None)

    def _finish_with(self, error: BaseException | None) -> None:
        if error is not None:
            self._run.finish(status=status_of(error), error=error)
        elif self._result is not None:
            self._run.finish(status="ok", result=self._result)
        else:
            self._run.finish(status="cancelled")


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
    tracking = locals_tracking(tracker, user_id, organization_id, tool_name, operation)
    stream: Any = _TrackedEventStream(agent, args, kwargs, tracking, _service_of_caller(tracking))
    return stream  # type: ignore[no-any-return]  # it is also async-iterable on late 1.x
