"""`WSGITrackingContextMiddleware`: each WSGI request, and its streamed body, runs as its user.

The concurrent test serves a real `wsgiref` server on loopback, one thread per request, and sends
it real HTTP requests from several threads at once.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import FileWrapper

import pytest
from pydantic_ai import Agent

from tokentrail import UsageTracker, WSGITrackingContextMiddleware, run_agent_sync_with_tracking
from tokentrail._context import _ambient

from .conftest import read_rows

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

Identity = tuple[str | None, str | None]


def rows_by_operation(tracker: UsageTracker, path: Path) -> dict[str, Identity]:
    return {
        row["operation"]: (row["user_id"], row["organization_id"])
        for row in read_rows(tracker, path)
    }


def identify(environ: dict[str, Any]) -> Identity | None:
    user = environ.get("HTTP_X_USER")
    return None if user is None else (user, environ.get("HTTP_X_ORG"))


class AssistantApp:
    """A plain WSGI application: `/answer/<id>` answers at once, `/stream/<id>` while iterated."""

    def __init__(self) -> None:
        self.agent = Agent("test")
        self.closed: list[str] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        kind, operation = environ["PATH_INFO"].strip("/").split("/")
        start_response("200 OK", [("Content-Type", "text/plain")])
        if kind == "stream":
            return self.stream(operation)
        answer = run_agent_sync_with_tracking(self.agent, "answer", operation=operation)
        return [answer.output.encode()]

    def stream(self, operation: str) -> Iterator[bytes]:
        # Runs while the server iterates the body, after the application call returned.
        try:
            for part in ("a", "b"):
                result = run_agent_sync_with_tracking(
                    self.agent, "part", operation=f"{operation}-{part}"
                )
                yield result.output.encode()
        finally:
            self.closed.append(operation)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output free of access-log lines."""


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@pytest.fixture
def serve_on_loopback() -> Iterator[Any]:
    servers: list[tuple[WSGIServer, threading.Thread]] = []

    def start(app: WSGIApplication) -> str:
        server = make_server(
            "127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
        )
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join()
        server.server_close()


def get(url: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        body: bytes = response.read()
        return body


def test_concurrent_requests_over_http_each_carry_their_user(
    tracker: UsageTracker, store_path: Path, serve_on_loopback: Any
) -> None:
    inner = AssistantApp()
    base = serve_on_loopback(WSGITrackingContextMiddleware(inner, identify, tracker=tracker))
    users = {f"user{number}": f"org{number % 3}" for number in range(12)}

    def visit(user: str) -> list[bytes]:
        headers = {"X-User": user, "X-Org": users[user]}
        return [get(f"{base}/{kind}/{user}-{kind}", headers) for kind in ("answer", "stream")]

    with ThreadPoolExecutor(max_workers=6) as clients:
        bodies = list(clients.map(visit, users))
        anonymous = clients.submit(get, f"{base}/answer/anonymous", {}).result()

    assert all(answer and streamed for answer, streamed in bodies)
    assert anonymous
    expected: dict[str, Identity] = {"anonymous": (None, None)}
    for user, org in users.items():
        expected[f"{user}-answer"] = (user, org)
        expected[f"{user}-stream-a"] = (user, org)
        expected[f"{user}-stream-b"] = (user, org)
    assert rows_by_operation(tracker, store_path) == expected
    assert sorted(inner.closed) == sorted(f"{user}-stream" for user in users)


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


def environ_for(path: str, **extra: Any) -> dict[str, Any]:
    return {"PATH_INFO": path, "REQUEST_METHOD": "GET", **extra}


def test_the_worker_thread_keeps_nothing_even_when_the_body_is_never_read(
    tracker: UsageTracker, store_path: Path
) -> None:
    inner = AssistantApp()
    app = WSGITrackingContextMiddleware(inner, identify, tracker=tracker)

    abandoned = app(environ_for("/stream/abandoned", HTTP_X_USER="alice"), start_response)
    assert _ambient.get() is None

    body = app(environ_for("/stream/late", HTTP_X_USER="bob", HTTP_X_ORG="globex"), start_response)
    run_agent_sync_with_tracking(Agent("test"), "between", tracker=tracker, operation="between")
    chunks = list(body)
    body.close()  # type: ignore[attr-defined]  # WSGI bodies may have close(); this one does
    del abandoned

    assert len(chunks) == 2
    assert inner.closed == ["late"]
    assert rows_by_operation(tracker, store_path) == {
        "between": (None, None),
        "late-a": ("bob", "globex"),
        "late-b": ("bob", "globex"),
    }


def test_finished_bodies_and_file_wrappers_are_returned_as_they_are(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(b"static")

    def static_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        if environ["PATH_INFO"] == "/file":
            wrapper = environ["wsgi.file_wrapper"]
            return wrapper(page.open("rb"))  # type: ignore[no-any-return]  # PEP 3333 leaves the type open
        return (b"ready",)

    app = WSGITrackingContextMiddleware(static_app, identify)

    file_body = app(environ_for("/file", **{"wsgi.file_wrapper": FileWrapper}), start_response)
    assert isinstance(file_body, FileWrapper)
    assert b"".join(file_body) == b"static"
    file_body.close()
    assert app(environ_for("/tuple"), start_response) == (b"ready",)


def test_close_reaches_a_body_that_was_never_iterated_and_one_without_close() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"x"

        def close(self) -> None:
            closed.append(_ambient.get() is not None)

    def app_with_body(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        return Body() if environ["PATH_INFO"] == "/closable" else iter([b"y"])

    app = WSGITrackingContextMiddleware(app_with_body, identify)

    app(environ_for("/closable", HTTP_X_USER="alice"), start_response).close()  # type: ignore[attr-defined]  # see the test's name
    plain = app(environ_for("/plain"), start_response)
    assert list(plain) == [b"y"]
    plain.close()  # type: ignore[attr-defined]  # see the test's name

    assert closed == [True]  # closed inside the request's context


def test_a_failing_identify_lets_the_request_through(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_identify(environ: dict[str, Any]) -> Identity:
        raise KeyError(environ["HTTP_AUTHORIZATION"] + " is unknown")

    app = WSGITrackingContextMiddleware(AssistantApp(), broken_identify, tracker=tracker)

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        body = app(
            environ_for("/answer/request", HTTP_AUTHORIZATION="Bearer t0ken"), start_response
        )

    assert list(body)
    assert rows_by_operation(tracker, store_path) == {"request": (None, None)}
    assert "broken_identify raised KeyError" in caplog.text
    assert "t0ken" not in caplog.text
