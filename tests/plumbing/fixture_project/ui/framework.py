"""A tiny ASGI router with a FastAPI-style `Depends` (no web framework is installed here).

Like FastAPI, it calls a plain-function dependency provider on a worker thread, in a copy of the
request's context, and an `async` one in the request's own task; the endpoint runs in the
request's task. Its authentication reads `x-user` and `x-org` headers and acts as that user for
the request, as a session or token middleware would.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import nullcontext
from typing import Any

from auth import acting_as

Message = MutableMapping[str, Any]
Endpoint = Callable[..., Awaitable[dict[str, str]]]


class _Dependency:
    def __init__(self, provider: Callable[[], Any]) -> None:
        self.provider = provider


def Depends(provider: Callable[[], Any]) -> Any:
    """Mark a parameter as given by `provider`, called once per request."""
    return _Dependency(provider)


class App:
    """Routes POST requests with a JSON body to `async` endpoints."""

    def __init__(self) -> None:
        self.routes: dict[str, Endpoint] = {}

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.routes[path] = endpoint
            return endpoint

        return register

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        user, organization = headers.get("x-user"), headers.get("x-org")
        signed_in = acting_as(user, organization) if user and organization else nullcontext()
        with signed_in:
            endpoint = self.routes[scope["path"]]
            arguments = await self._arguments(endpoint, json.loads(body or b"{}"))
            answer = await endpoint(**arguments)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    async def _arguments(self, endpoint: Endpoint, payload: dict[str, Any]) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        for name, parameter in inspect.signature(endpoint).parameters.items():
            if not isinstance(parameter.default, _Dependency):
                arguments[name] = payload[name]
            elif inspect.iscoroutinefunction(parameter.default.provider):
                arguments[name] = await parameter.default.provider()
            else:
                arguments[name] = await asyncio.to_thread(parameter.default.provider)
        return arguments
