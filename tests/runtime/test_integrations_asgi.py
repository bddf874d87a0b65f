"""`TrackingContextMiddleware`: each ASGI request runs as its own user and organization.

No ASGI server is installed here. Most tests call the application as a server does, with a real
scope, `receive` and `send`, many requests at once on one event loop; one serves it over real
HTTP on loopback through a minimal HTTP/1.1 front end that, like uvicorn, handles each connection
in a task of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import Agent

from tokentrail import TrackingContextMiddleware, UsageTracker, run_agent_with_tracking
from tokentrail._context import _ambient

from .conftest import read_rows

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Identity = tuple[str | None, str | None]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


def rows_by_operation(tracker: UsageTracker, path: Path) -> dict[str, Identity]:
    return {
        row["operation"]: (row["user_id"], row["organization_id"])
        for row in read_rows(tracker, path)
    }


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode())
    return None


def identify(scope: Scope) -> Identity | None:
    user = header(scope, b"x-user")
    return None if user is None else (user, header(scope, b"x-org"))


async def identify_async(scope: Scope) -> Identity | None:
    await asyncio.sleep(0)
    return identify(scope)


class AssistantApp:
    """A plain ASGI application whose routes run agents, in the request and in a task it starts."""

    def __init__(self) -> None:
        self.agent = Agent("test")
        self.lifespan_scopes: list[Scope] = []

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            self.lifespan_scopes.append(scope)
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            return
        if scope["type"] == "websocket":
            await self.chat(receive, send)
            return
        await receive()
        operation = scope["path"].strip("/")
        await asyncio.sleep(0)  # let the other requests interleave
        answer = await run_agent_with_tracking(self.agent, "answer", operation=operation)
        follow_up = asyncio.create_task(
            run_agent_with_tracking(self.agent, "follow up", operation=f"{operation}-task")
        )
        await follow_up
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": answer.output.encode()})

    async def chat(
        self, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            result = await run_agent_with_tracking(self.agent, "chat", operation=message["text"])
            await send({"type": "websocket.send", "text": result.output})
        await send({"type": "websocket.close"})


def http_scope(path: str, headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def serve(app: ASGIApp, scope: Scope, incoming: list[Message]) -> list[Message]:
    """Run one connection as a server does, returning what the application sent."""
    inbox = list(incoming)
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(0)
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def post(app: ASGIApp, path: str, headers: dict[str, str]) -> list[Message]:
    request = {"type": "http.request", "body": b"", "more_body": False}
    return await serve(app, http_scope(path, headers), [request])


async def serve_http_once(
    app: ASGIApp, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answer one HTTP/1.1 request on a connection, then close it."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    request_line, *header_lines = head.split("\r\n")[:-2]
    method, target, _ = request_line.split(" ")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    scope = {**http_scope(target, headers), "method": method}
    request: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return request.pop(0)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            writer.write(f"HTTP/1.1 {message['status']} OK\r\nConnection: close\r\n\r\n".encode())
        else:
            writer.write(message.get("body", b""))
        await writer.drain()

    try:
        await app(scope, receive, send)
    finally:
        writer.close()
        await writer.wait_closed()


async def http_post(port: int, path: str, headers: dict[str, str]) -> str:
    """A plain HTTP/1.1 POST over loopback; returns the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Length: 0"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    return response.decode().partition("\r\n")[0]


async def test_requests_over_loopback_http_each_carry_their_user(
    tracker: UsageTracker, store_path: Path
) -> None:
    app = TrackingContextMiddleware(AssistantApp(), identify, tracker=tracker)
    server = await asyncio.start_server(
        lambda reader, writer: serve_http_once(app, reader, writer), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    users = {f"user{number}": f"org{number % 2}" for number in range(10)}

    async with server:
        statuses = await asyncio.gather(
            *(
                http_post(port, f"/{user}", {"X-User": user, "X-Org": org})
                for user, org in users.items()
            ),
            http_post(port, "/anonymous", {}),
        )

    assert statuses == ["HTTP/1.1 200 OK"] * (len(users) + 1)
    expected: dict[str, Identity] = {"anonymous": (None, None), "anonymous-task": (None, None)}
    for user, org in users.items():
        expected[user] = expected[f"{user}-task"] = (user, org)
    assert rows_by_operation(tracker, store_path) == expected


@pytest.mark.parametrize("identify_function", [identify, identify_async])
async def test_concurrent_requests_each_carry_their_user(
    tracker: UsageTracker,
    store_path: Path,
    identify_function: Callable[[Scope], Any],
) -> None:
    app = TrackingContextMiddleware(AssistantApp(), identify_function, tracker=tracker)
    users = {f"user{number}": f"org{number % 3}" for number in range(16)}

    responses = await asyncio.gather(
        *(post(app, f"/{user}", {"x-user": user, "x-org": org}) for user, org in users.items()),
        post(app, "/anonymous", {}),
    )

    assert all(messages[0]["status"] == 200 for messages in responses)
    expected: dict[str, Identity] = {
        f"{user}{suffix}": (user, org) for user, org in users.items() for suffix in ("", "-task")
    }
    expected |= {"anonymous": (None, None), "anonymous-task": (None, None)}
    assert rows_by_operation(tracker, store_path) == expected
    assert _ambient.get() is None


async def test_websocket_messages_run_as_the_connected_user(
    tracker: UsageTracker, store_path: Path
) -> None:
    app = TrackingContextMiddleware(AssistantApp(), identify, tracker=tracker)

    async def connect(user: str) -> list[Message]:
        scope = {**http_scope("/chat", {"x-user": user, "x-org": "acme"}), "type": "websocket"}
        incoming: list[Message] = [
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": f"{user}-1"},
            {"type": "websocket.receive", "text": f"{user}-2"},
            {"type": "websocket.disconnect", "code": 1000},
        ]
        return await serve(app, scope, incoming)

    conversations = await asyncio.gather(connect("alice"), connect("bob"))

    assert [message["type"] for message in conversations[0]] == [
        "websocket.accept",
        "websocket.send",
        "websocket.send",
        "websocket.close",
    ]
    assert rows_by_operation(tracker, store_path) == {
        "alice-1": ("alice", "acme"),
        "alice-2": ("alice", "acme"),
        "bob-1": ("bob", "acme"),
        "bob-2": ("bob", "acme"),
    }


async def test_lifespan_passes_through_untouched() -> None:
    calls: list[Scope] = []

    def counting_identify(scope: Scope) -> Identity:
        calls.append(scope)
        return ("nobody", None)

    inner = AssistantApp()
    app = TrackingContextMiddleware(inner, counting_identify)
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}

    sent = await serve(app, scope, [{"type": "lifespan.startup"}])

    assert sent == [{"type": "lifespan.startup.complete"}]
    assert inner.lifespan_scopes == [scope]
    assert inner.lifespan_scopes[0] is scope
    assert calls == []


async def test_a_failing_identify_lets_the_request_through_without_identity(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_identify(scope: Scope) -> Identity:
        raise PermissionError(f"bad cookie {header(scope, b'cookie')}")

    app = TrackingContextMiddleware(AssistantApp(), broken_identify, tracker=tracker)

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        first = await post(app, "/first", {"cookie": "session=s3cr3t"})
        second = await post(app, "/second", {"cookie": "session=s3cr3t"})

    assert first[0]["status"] == second[0]["status"] == 200
    assert rows_by_operation(tracker, store_path) == {
        "first": (None, None),
        "first-task": (None, None),
        "second": (None, None),
        "second-task": (None, None),
    }
    problems = [record for record in caplog.records if "identity function" in record.message]
    assert len(problems) == 1
    assert "broken_identify raised PermissionError" in problems[0].message
    assert "s3cr3t" not in caplog.text


async def test_an_identify_that_returns_garbage_means_no_identity(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def identify_badly(scope: Scope) -> Any:
        return {"user": "alice"}  # a mapping, not the (user_id, organization_id) pair

    app = TrackingContextMiddleware(AssistantApp(), identify_badly, tracker=tracker)

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        await post(app, "/request", {})

    assert rows_by_operation(tracker, store_path)["request"] == (None, None)
    assert "returned dict instead of" in caplog.text


async def test_the_applications_exceptions_propagate_and_the_context_is_restored(
    tracker: UsageTracker,
) -> None:
    async def failing_app(
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        assert _ambient.get() is not None
        raise RuntimeError("route failed")

    app = TrackingContextMiddleware(failing_app, identify, tracker=tracker)

    with pytest.raises(RuntimeError, match="route failed"):
        await post(app, "/boom", {"x-user": "alice"})
    assert _ambient.get() is None
