"""`TrackingContextMiddleware`: the tracking context of each ASGI request."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from tokentrail.integrations._identity import (
    FailureLog,
    Identity,
    ambient_for,
    ambient_scope,
    as_identity,
    describe,
)

if TYPE_CHECKING:
    from tokentrail._tracker import UsageTracker

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RequestIdentity = Callable[
    [Scope],
    "tuple[str | None, str | None] | Awaitable[tuple[str | None, str | None] | None] | None",
]
"""`identify(scope)`, plain or `async`: `(user_id, organization_id)` or `None`."""

_SCOPES_WITH_USERS = frozenset({"http", "websocket"})


class TrackingContextMiddleware:
    """ASGI middleware that bills each request's tracked runs to the request's user.

    For every `http` and `websocket` request it calls `identify(scope)` and runs the rest of the
    application inside that identity, so routes, dependencies, background tasks of the response
    and asyncio tasks they start are all covered, and services shared between requests need no
    identity of their own. `lifespan` (and any other scope type) passes through untouched.

    ```python
    from fastapi import FastAPI
    from tokentrail import TrackingContextMiddleware


    def identify(scope):
        user = scope.get("user")  # set by an authentication middleware placed outside this one
        return (user.id, user.organization_id) if user else None


    app = FastAPI()
    app.add_middleware(TrackingContextMiddleware, identify=identify)
    ```

    `identify` may be `async`. When it raises or returns something other than a pair or `None`,
    the problem is logged (rate-limited, without the exception's message or the request's
    headers) and the request proceeds without identity. Each request starts from its own
    identity: a request without one never inherits another's.
    """

    def __init__(
        self, app: ASGIApp, identify: RequestIdentity, *, tracker: UsageTracker | None = None
    ) -> None:
        self.app = app
        self._identify = identify
        self._tracker = tracker
        self._source = describe(identify)
        self._failures = FailureLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request inside its user's tracking context."""
        if scope.get("type") not in _SCOPES_WITH_USERS:
            await self.app(scope, receive, send)
            return
        identity = await self._identity_of(scope)
        with ambient_scope(ambient_for(self._tracker, identity)):
            await self.app(scope, receive, send)

    async def _identity_of(self, scope: Scope) -> Identity:
        try:
            value: Any = self._identify(scope)
            if inspect.isawaitable(value):
                value = await value
        except Exception as error:  # noqa: BLE001 - a broken identify must not fail the request
            self._failures.report(self._source, f"raised {type(error).__name__}", error)
            return None, None
        return as_identity(value, self._source, self._failures)
