"""What the integration helpers share: asking an identity function safely, and the ambient value.

An identity function is user code that reads a session, a token or a job's arguments; it can
fail or return something unexpected. Neither may break the request, page or job it runs for, and
a failure that repeats on every request must not flood the log, so problems are logged with the
function's name and the exception's class only (messages and tracebacks can hold tokens or
cookies; the traceback goes to DEBUG), the first at once and then at most one line per interval
with a count of those left out.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tokentrail._context import _Ambient, _ambient

if TYPE_CHECKING:
    from tokentrail._tracker import UsageTracker

logger = logging.getLogger(__name__)

Identity = tuple[str | None, str | None]
"""`(user_id, organization_id)`, either of which may be unknown."""

_NO_IDENTITY: Identity = (None, None)


class FailureLog:
    """Logs an identity function's problems: the first at once, then one line per interval."""

    def __init__(
        self, interval_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_seconds = interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._last_logged: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def report(self, source: str, problem: str, error: BaseException | None = None) -> None:
        """Log that `source` had `problem`, unless it was already logged within the interval."""
        now = self._clock()
        with self._lock:
            last = self._last_logged.get(source)
            if last is not None and now - last < self._interval_seconds:
                self._left_out[source] = self._left_out.get(source, 0) + 1
                return
            self._last_logged[source] = now
            left_out = self._left_out.pop(source, 0)

        repeats = f" ({left_out} more since the last report)" if left_out else ""
        logger.warning(
            "tokentrail: identity function %s %s; continuing without identity%s",
            source,
            problem,
            repeats,
        )
        if error is not None:
            logger.debug("tokentrail: identity function %s failed", source, exc_info=error)


def describe(function: object) -> str:
    """`module:qualified_name` of a function, for log lines."""
    module = getattr(function, "__module__", None) or "?"
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}:{name}"


def as_identity(value: object, source: str, failures: FailureLog) -> Identity:
    """Read an identity function's result; anything but a pair or `None` means no identity."""
    if value is None:
        return _NO_IDENTITY
    if inspect.isawaitable(value):
        if inspect.iscoroutine(value):
            value.close()  # never awaited on purpose: say why instead of warning about it
        failures.report(source, "is async; this helper needs a plain function")
        return _NO_IDENTITY
    if isinstance(value, tuple | list) and len(value) == 2:
        user_id, organization_id = value
        return _as_id(user_id), _as_id(organization_id)
    failures.report(
        source,
        f"returned {type(value).__name__} instead of (user_id, organization_id) or None",
    )
    return _NO_IDENTITY


def ask(function: Callable[..., Any], args: Any, kwargs: Any, failures: FailureLog) -> Identity:
    """Call a synchronous identity function; its exceptions are logged and swallowed."""
    source = describe(function)
    try:
        value = function(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - a broken identity function must not break work
        failures.report(source, f"raised {type(error).__name__}", error)
        return _NO_IDENTITY
    return as_identity(value, source, failures)


def _as_id(value: object) -> str | None:
    return None if value is None else str(value)


def ambient_for(tracker: UsageTracker | None, identity: Identity | None) -> _Ambient:
    """The ambient value for a new unit of work.

    `identity=None` keeps the enclosing identity; a pair replaces it, `(None, None)` included,
    so a new unit of work never inherits a previous one's user. The tracker, which says where
    records go rather than whose they are, is inherited when not given.
    """
    outer = _ambient.get()
    if tracker is None and outer is not None:
        tracker = outer.tracker
    if identity is None:
        identity = _NO_IDENTITY if outer is None else (outer.user_id, outer.organization_id)
    return _Ambient(tracker, identity[0], identity[1])


@contextmanager
def ambient_scope(value: _Ambient) -> Iterator[None]:
    """Make `value` the ambient context inside the block, and restore the previous one after.

    Restoring also undoes a `bind_tracking_context` made inside the block.
    """
    token = _ambient.set(value)
    try:
        yield
    finally:
        _ambient.reset(token)


def bind(value: _Ambient) -> None:
    """Make `value` the ambient context for the rest of the current context."""
    _ambient.set(value)
