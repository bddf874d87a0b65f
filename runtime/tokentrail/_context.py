"""Who a run is for, and which tracker records it.

Each tracked run resolves its context when it starts, first found wins, `None` meaning "not given":

1. the keywords passed to the wrapper,
2. the ambient `tracking_context(...)` around the call,
3. the identity provider set with `configure(identity_provider=...)`, called at run time,
4. the process default set with `configure(...)`.

`user_id` and `organization_id` resolve as a pair: the first source that sets either gives both,
so a run never mixes one user's id with another source's organization. The tracker resolves on its
own.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tokentrail._tracker import UsageTracker

logger = logging.getLogger(__name__)

IdentityProvider = Callable[[], "tuple[str | None, str | None] | None"]
"""Returns `(user_id, organization_id)` for the current request, or `None` when it has none."""

_P = ParamSpec("_P")
_R = TypeVar("_R")
_ServiceT = TypeVar("_ServiceT")


@dataclass(frozen=True, slots=True)
class _Ambient:
    tracker: UsageTracker | None
    user_id: str | None
    organization_id: str | None


@dataclass(slots=True)
class _Defaults:
    tracker: UsageTracker | None = None
    identity_provider: IdentityProvider | None = None


_ambient: contextvars.ContextVar[_Ambient | None] = contextvars.ContextVar(
    "tokentrail_ambient_context", default=None
)
_defaults = _Defaults()


@dataclass(frozen=True, slots=True)
class ResolvedContext:
    """The tracker and identity a run is recorded with."""

    tracker: UsageTracker | None
    user_id: str | None
    organization_id: str | None


def set_process_defaults(
    *, tracker: UsageTracker | None, identity_provider: IdentityProvider | None
) -> None:
    """Replace the process-wide tracker and identity provider (used by `configure`)."""
    if tracker is not None:
        _defaults.tracker = tracker
    if identity_provider is not None:
        _defaults.identity_provider = identity_provider


def default_tracker() -> UsageTracker | None:
    """The tracker set with `configure(...)`, if any."""
    return _defaults.tracker


@contextmanager
def tracking_context(
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
) -> Iterator[None]:
    """Record every tracked run inside the block with this tracker and identity.

    Set it where a request, session or job begins. It flows into asyncio tasks started inside the
    block; for thread pools use `propagate_context`. Nested blocks inherit what they leave as
    `None`.

    Example:
        ```python
        with tracking_context(user_id="u-42", organization_id="acme"):
            await run_agent_with_tracking(agent, "Summarise this", tool_name="summaries")
        ```
    """
    outer = _ambient.get()
    if outer is not None:
        if tracker is None:
            tracker = outer.tracker
        if user_id is None and organization_id is None:
            user_id, organization_id = outer.user_id, outer.organization_id
    token = _ambient.set(_Ambient(tracker, user_id, organization_id))
    try:
        yield
    finally:
        _ambient.reset(token)


def propagate_context(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap `function` so it runs in a copy of the caller's context, tracking context included.

    contextvars do not cross into threads, so submit `propagate_context(work)` to a
    `ThreadPoolExecutor` instead of `work` to keep the caller's `tracking_context`.
    """
    context = contextvars.copy_context()

    @functools.wraps(function)
    def in_caller_context(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return context.copy().run(function, *args, **kwargs)

    return in_caller_context


def resolve_context(
    tracker: UsageTracker | None, user_id: str | None, organization_id: str | None
) -> ResolvedContext:
    """Apply the precedence rules to a run's explicit keywords."""
    ambient = _ambient.get()
    if tracker is None and ambient is not None:
        tracker = ambient.tracker
    if tracker is None:
        tracker = _defaults.tracker

    if user_id is None and organization_id is None:
        if ambient is not None and (ambient.user_id, ambient.organization_id) != (None, None):
            user_id, organization_id = ambient.user_id, ambient.organization_id
        else:
            user_id, organization_id = _ask_identity_provider()
    return ResolvedContext(tracker, user_id, organization_id)


def _ask_identity_provider() -> tuple[str | None, str | None]:
    provider = _defaults.identity_provider
    if provider is None:
        return None, None
    try:
        identity = provider()
    except Exception:  # a broken provider must not break the agent call
        logger.warning(
            "tokentrail: the identity provider raised; recording without identity", exc_info=True
        )
        return None, None
    if identity is None:
        return None, None
    user_id, organization_id = identity
    return _as_id(user_id), _as_id(organization_id)


def _as_id(value: Any) -> str | None:
    return None if value is None else str(value)


def setup_tracking_context(
    service: _ServiceT,
    *,
    tracker: UsageTracker | None = None,
    user_id: str | None = None,
    organization_id: str | None = None,
) -> _ServiceT:
    """Give a per-request service instance its tracker and identity, and return it.

    Calls `service.set_tracking_context(tracker, user_id, organization_id)` (the method the codemod
    adds). A service without that method is returned untouched. Never call it on an instance shared
    between users (cached, singleton, app state): use `tracking_context` at the request boundary.
    """
    setter = getattr(service, "set_tracking_context", None)
    if setter is None:
        return service
    from tokentrail._inflight import warn_if_identity_changes

    warn_if_identity_changes(service, user_id, organization_id)
    setter(tracker, user_id, organization_id)
    return service
