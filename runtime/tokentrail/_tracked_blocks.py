"""The objects the `with`-style wrappers return: they enter the agent's own context manager and
record the run when the block is left, whatever way it is left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from tokentrail._record import RunStatus
from tokentrail._run import TrackedRun, status_of

_EnteredT = TypeVar("_EnteredT")

_WRAPPER_STEM = {"run_stream_sync": "stream_sync", "run_stream_events": "stream_events"}


def require_method(agent: Any, method: str) -> Any:
    bound = getattr(agent, method, None)
    if bound is None:
        raise TypeError(
            f"{type(agent).__name__} has no {method}(): this pydantic-ai version does not "
            f"support it, so run_agent_{_WRAPPER_STEM[method]}_with_tracking cannot be used"
        )
    return bound


class _Block(Generic[_EnteredT]):
    """What both `with`-style blocks keep: the call to make, and the run once it is entered."""

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

    def _begin(self) -> tuple[Any, TrackedRun]:
        """The agent's bound method, and the run observing it (started just before the call)."""
        bound = require_method(self._agent, self._method)
        self._run = TrackedRun(
            self._agent, self._method, self._kwargs, service=self._service, **self._tracking
        )
        return bound, self._run


class TrackedAsyncBlock(_Block[_EnteredT]):
    """Enters the agent's async context manager and records the run when it is left."""

    async def __aenter__(self) -> _EnteredT:
        bound, run = self._begin()
        try:
            self._inner = bound(*self._args, **self._kwargs)
            self._entered = await self._inner.__aenter__()
        except BaseException as error:
            run.finish(status=status_of(error), error=error)
            raise
        run.started()
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
        _finish_block(self._run, self._entered, None if suppressed else error)
        return bool(suppressed)


def _finish_block(run: TrackedRun, entered: Any, error: BaseException | None) -> None:
    """Record a block left with `error` (not suppressed), or left normally: complete or early."""
    if error is not None:
        run.finish(status=status_of(error), error=error)
        return
    status: RunStatus = "ok" if _completed(entered) else "cancelled"
    run.finish(status=status, result=_result_of(entered))


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


class TrackedSyncBlock(_Block[_EnteredT]):
    """`with`-style tracking of `run_stream_sync`, on versions that return a context manager
    and on those that return the started stream itself."""

    def __enter__(self) -> _EnteredT:
        bound, run = self._begin()
        try:
            self._inner = bound(*self._args, **self._kwargs)
            enter = getattr(self._inner, "__enter__", None)
            self._entered = enter() if enter is not None else self._inner
        except BaseException as error:
            run.finish(status=status_of(error), error=error)
            raise
        run.started()
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
        _finish_block(self._run, self._entered, None if suppressed else error)
        return bool(suppressed)


class TrackedEventStream:
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
        bound = require_method(agent, "run_stream_events")
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
