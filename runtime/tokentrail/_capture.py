"""Seeing the messages of a run that ended without a result (an error, a cancellation, a stream
left early).

pydantic-ai fills a run's message list into the innermost unused message capture of its context.
When the caller has no such capture open, the wrapper provides a fresh one for its run; when the
caller has one open and unused, the run fills the caller's list and the wrapper only reads it, so
a caller's own `capture_run_messages()` keeps working. Nothing is installed on versions without
this mechanism: their failed runs are recorded without token counts.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any

_UNSET: Any = object()


def _capture_machinery() -> tuple[contextvars.ContextVar[Any], type] | None:
    try:
        from pydantic_ai import _agent_graph
    except ImportError:
        return None
    variable = getattr(_agent_graph, "_messages_ctx_var", None)
    run_messages = getattr(_agent_graph, "_RunMessages", None)
    if not isinstance(variable, contextvars.ContextVar) or not isinstance(run_messages, type):
        return None
    return variable, run_messages


@dataclass(slots=True)
class MessageCapture:
    """The message list a run will fill, and how to undo what the wrapper installed."""

    messages: list[Any] | None
    variable: contextvars.ContextVar[Any] | None = None
    token: contextvars.Token[Any] | None = None

    def release(self) -> None:
        """Remove the capture the wrapper installed; tolerant of a changed context."""
        if self.variable is None or self.token is None:
            return
        # Left in another context (a generator finalised elsewhere), the value is unused anyway.
        with contextlib.suppress(ValueError):
            self.variable.reset(self.token)
        self.token = None


_machinery: tuple[contextvars.ContextVar[Any], type] | Any | None = _UNSET


def open_capture() -> MessageCapture:
    """Make sure the next run started in this context has a message list we can read."""
    global _machinery
    if _machinery is _UNSET:
        _machinery = _capture_machinery()
    if _machinery is None:
        return MessageCapture(messages=None)

    variable, run_messages_type = _machinery
    current = variable.get(None)
    if current is not None and not current.used:
        return MessageCapture(messages=current.messages)
    messages: list[Any] = []
    token = variable.set(run_messages_type(messages))
    return MessageCapture(messages=messages, variable=variable, token=token)
