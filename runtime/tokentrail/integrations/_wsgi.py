"""`WSGITrackingContextMiddleware`: the tracking context of each WSGI request.

WSGI servers run requests on worker threads that they reuse, and a response's body may be
produced after the application returns, while the server iterates it. So the request does not set
the context on the worker thread at all: it runs in a copy of the thread's context, and the
application call, every step of the body's iteration and its `close()` run in that same copy.
Nothing is left behind on the thread, whether or not the server iterates or closes the body.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from tokentrail.integrations._identity import (
    FailureLog,
    ambient_for,
    ask,
    bind,
    describe,
)

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from tokentrail._tracker import UsageTracker

EnvironIdentity = Callable[[dict[str, Any]], "tuple[str | None, str | None] | None"]
"""`identify(environ)`: `(user_id, organization_id)` or `None`."""


class WSGITrackingContextMiddleware:
    """WSGI middleware that bills each request's tracked runs to the request's user.

    ```python
    from flask import Flask
    from tokentrail import WSGITrackingContextMiddleware

    app = Flask(__name__)
    app.wsgi_app = WSGITrackingContextMiddleware(app.wsgi_app, identify=identify_from_environ)
    ```

    `identify(environ)` runs once per request. When it raises or returns something other than a
    pair or `None`, the problem is logged (rate-limited, without the exception's message or the
    request's headers) and the request proceeds without identity. The context covers the
    application call and the iteration of the body it returns (a streamed response runs its
    agents while the server iterates), and the body's `close()` is always passed on.
    """

    def __init__(
        self,
        app: WSGIApplication,
        identify: EnvironIdentity,
        *,
        tracker: UsageTracker | None = None,
    ) -> None:
        self.app = app
        self._identify = identify
        self._tracker = tracker
        self._failures = FailureLog()
        self._source = describe(identify)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Run the request, and the iteration of its body, inside its user's tracking context."""
        request_context = contextvars.copy_context()
        request_context.run(self._enter, environ)
        body = request_context.run(self.app, environ, start_response)
        if isinstance(body, list | tuple) or _is_file_wrapper(body, environ):
            # Nothing runs while the server reads these; unwrapped, the server keeps its
            # Content-Length and sendfile shortcuts.
            return body
        return _BodyInContext(body, request_context)

    def _enter(self, environ: WSGIEnvironment) -> None:
        identity = ask(self._identify, (environ,), {}, self._failures)
        bind(ambient_for(self._tracker, identity))


def _is_file_wrapper(body: Iterable[bytes], environ: WSGIEnvironment) -> bool:
    wrapper_type = environ.get("wsgi.file_wrapper")
    return isinstance(wrapper_type, type) and isinstance(body, wrapper_type)


class _BodyInContext:
    """A response body whose iteration and `close()` run in the request's context."""

    def __init__(self, body: Iterable[bytes], context: contextvars.Context) -> None:
        self._body = body
        self._context = context
        self._chunks: Iterator[bytes] | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._chunks is None:
            self._chunks = self._context.run(iter, self._body)
        return self._context.run(next, self._chunks)

    def close(self) -> None:
        """Pass `close()` on to the application's body (PEP 3333), in the request's context."""
        close = getattr(self._body, "close", None)
        if close is not None:
            self._context.run(close)
