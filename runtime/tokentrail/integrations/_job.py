"""`tracking_job`: bill a background job's tracked runs to the user and organization it is for."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from tokentrail.integrations._identity import (
    FailureLog,
    Identity,
    ambient_for,
    ambient_scope,
    ask,
)

if TYPE_CHECKING:
    from tokentrail._context import _Ambient
    from tokentrail._tracker import UsageTracker

_P = ParamSpec("_P")
_R = TypeVar("_R")

JobIdentity = Callable[..., "tuple[str | None, str | None] | None"]
"""Receives the job's own arguments and returns `(user_id, organization_id)` or `None`."""

_failures = FailureLog()


def tracking_job(
    identity: JobIdentity | None = None,
    *,
    user_id: str | None = None,
    organization_id: str | None = None,
    tracker: UsageTracker | None = None,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Decorate a background job so its tracked runs carry the job's user and organization.

    Works on plain and `async` functions and on methods, and keeps the function's signature for
    type checkers. The context lasts exactly as long as each call, so a worker thread that runs
    one user's job and then another's never mixes them:

    ```python
    from tokentrail import tracking_job


    @tracking_job(lambda report_id, owner: (owner.user_id, owner.organization_id))
    def build_report(report_id: str, owner: Owner) -> None:
        ReportService().build(report_id)
    ```

    Args:
        identity: called with the job's own `*args, **kwargs` (a method's `self` included) at
            each call; returns `(user_id, organization_id)` or `None` (no identity). Its
            exceptions are logged, rate-limited, and the job runs without identity.
        user_id: a fixed user for every call; with `organization_id`, wins over `identity`.
        organization_id: a fixed organization for every call.
        tracker: where the job's records go; `None` keeps the caller's.

    With neither `identity` nor ids, the job keeps its caller's identity (a job called inside a
    request, or submitted with `propagate_context`) and only scopes what is bound inside it.

    Raises:
        TypeError: for a generator function (its body runs after the call returns, outside the
            context), or when used without parentheses (`@tracking_job` instead of
            `@tracking_job()`).
    """
    fixed: Identity | None = None
    if user_id is not None or organization_id is not None:
        fixed = (user_id, organization_id)

    def identity_for(args: Any, kwargs: Any) -> Identity | None:
        if fixed is not None or identity is None:
            return fixed
        return ask(identity, args, kwargs, _failures)

    def decorate(function: Callable[_P, _R]) -> Callable[_P, _R]:
        candidate: object = function
        if not callable(candidate):
            raise TypeError(
                "tracking_job() returns a decorator: write @tracking_job() or "
                "@tracking_job(identity), not @tracking_job"
            )
        if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
            raise TypeError(
                f"tracking_job cannot wrap the generator function {function.__qualname__}: its "
                "body runs after the call returns; decorate the function that consumes it"
            )

        if inspect.iscoroutinefunction(function):
            coroutine_function = cast("Callable[_P, Awaitable[Any]]", function)

            @functools.wraps(function)
            async def run_async_job(*args: _P.args, **kwargs: _P.kwargs) -> Any:
                with ambient_scope(ambient_for(tracker, identity_for(args, kwargs))):
                    return await coroutine_function(*args, **kwargs)

            return cast("Callable[_P, _R]", run_async_job)

        @functools.wraps(function)
        def run_job(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            ambient = ambient_for(tracker, identity_for(args, kwargs))
            with ambient_scope(ambient):
                result = function(*args, **kwargs)
            if inspect.iscoroutine(result):
                # An async job behind a plain-looking wrapper: its body runs when awaited.
                return cast("_R", _awaited_in_scope(result, ambient))
            return result

        return run_job

    return decorate


async def _awaited_in_scope(coroutine: Coroutine[Any, Any, _R], ambient: _Ambient) -> _R:
    with ambient_scope(ambient):
        return await coroutine
