"""`bind_tracking_context`: the page-top binding, per script thread or asyncio task."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic_ai import Agent

from tokentrail import (
    UsageTracker,
    bind_tracking_context,
    run_agent_sync_with_tracking,
    run_agent_with_tracking,
    tracking_context,
    tracking_job,
)
from tokentrail.integrations._identity import FailureLog

from .conftest import read_rows

Identity = tuple[str | None, str | None]


def rows_by_operation(tracker: UsageTracker, path: Path) -> dict[str, Identity]:
    return {
        row["operation"]: (row["user_id"], row["organization_id"])
        for row in read_rows(tracker, path)
    }


class SessionSummaries:
    """A service as a cached getter shares it: one instance for every session, no identity."""

    def __init__(self) -> None:
        self.agent = Agent("test")

    def summarise(self, text: str, operation: str) -> str:
        return run_agent_sync_with_tracking(self.agent, text, operation=operation).output


@functools.cache
def shared_summaries() -> SessionSummaries:
    return SessionSummaries()


def test_each_script_thread_bills_its_own_session(tracker: UsageTracker, store_path: Path) -> None:
    sessions = {"alice": "acme", "bob": "globex", "carol": "acme", "dave": "initech"}
    barrier = threading.Barrier(len(sessions))
    shared_summaries.cache_clear()

    def page_run(user: str) -> None:
        bind_tracking_context(lambda: (user, sessions[user]), tracker=tracker)
        barrier.wait()  # every session is bound before any of them runs an agent
        for step in range(3):
            shared_summaries().summarise(f"notes of {user}", operation=f"{user}-{step}")

    threads = [threading.Thread(target=page_run, args=(user,)) for user in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    recorded = rows_by_operation(tracker, store_path)
    assert len(recorded) == 12
    for operation, identity in recorded.items():
        user = operation.split("-")[0]
        assert identity == (user, sessions[user])


def test_a_rerun_without_a_user_clears_the_previous_binding(
    tracker: UsageTracker, store_path: Path
) -> None:
    signed_in: dict[str, Identity | None] = {"session": ("alice", "acme")}
    agent = Agent("test")

    def page_run(operation: str) -> None:
        bind_tracking_context(lambda: signed_in["session"], tracker=tracker)
        run_agent_sync_with_tracking(agent, "hello", operation=operation)

    with ThreadPoolExecutor(max_workers=1) as same_thread:
        same_thread.submit(page_run, "signed-in").result()
        signed_in["session"] = None
        same_thread.submit(page_run, "signed-out").result()
        same_thread.submit(bind_tracking_context, tracker=tracker).result()
        same_thread.submit(run_agent_sync_with_tracking, agent, "x", operation="bare").result()

    assert rows_by_operation(tracker, store_path) == {
        "signed-in": ("alice", "acme"),
        "signed-out": (None, None),
        "bare": (None, None),
    }


async def test_a_binding_stays_in_its_task(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")
    both_bound = asyncio.Barrier(2)

    async def request(user: str) -> None:
        bind_tracking_context(user_id=user, organization_id=f"org-{user}", tracker=tracker)
        await both_bound.wait()
        await run_agent_with_tracking(agent, "hi", operation=user)

    with tracking_context(tracker=tracker, user_id="outer", organization_id="outer-org"):
        await asyncio.gather(
            asyncio.create_task(request("alice")), asyncio.create_task(request("bob"))
        )
        await run_agent_with_tracking(agent, "after", operation="outer")

    assert rows_by_operation(tracker, store_path) == {
        "alice": ("alice", "org-alice"),
        "bob": ("bob", "org-bob"),
        "outer": ("outer", "outer-org"),
    }


def test_keywords_win_and_the_identity_function_is_not_called(
    tracker: UsageTracker, store_path: Path
) -> None:
    calls: list[str] = []

    def identity() -> Identity:
        calls.append("called")
        return ("from-function", "org")

    def page_run() -> None:
        bind_tracking_context(identity, user_id="explicit", tracker=tracker)
        run_agent_sync_with_tracking(Agent("test"), "hi", operation="page")

    thread = threading.Thread(target=page_run)
    thread.start()
    thread.join()

    assert calls == []
    assert rows_by_operation(tracker, store_path) == {"page": ("explicit", None)}


def test_the_tracker_is_kept_from_the_enclosing_context(
    tracker: UsageTracker, store_path: Path
) -> None:
    @tracking_job(tracker=tracker)
    def job() -> None:
        bind_tracking_context(lambda: ("alice", "acme"))
        run_agent_sync_with_tracking(Agent("test"), "hi", operation="job")

    job()

    assert rows_by_operation(tracker, store_path) == {"job": ("alice", "acme")}


def test_a_failing_identity_function_never_breaks_the_page(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_identity() -> Identity:
        raise KeyError("session-token-abc123")

    def page_run(operation: str) -> None:
        bind_tracking_context(broken_identity, tracker=tracker)
        run_agent_sync_with_tracking(Agent("test"), "hi", operation=operation)

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        for operation in ("first", "second"):
            thread = threading.Thread(target=page_run, args=(operation,))
            thread.start()
            thread.join()

    assert rows_by_operation(tracker, store_path) == {
        "first": (None, None),
        "second": (None, None),
    }
    problems = [record for record in caplog.records if "identity function" in record.message]
    assert len(problems) == 1  # the repeat within the minute is counted, not logged
    assert "broken_identity raised KeyError" in problems[0].message
    assert "abc123" not in caplog.text


def test_an_identity_that_is_not_a_pair_counts_as_none(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def page_run() -> None:
        bind_tracking_context(lambda: "alice", tracker=tracker)  # type: ignore[arg-type, return-value]  # a mistake this test makes on purpose
        run_agent_sync_with_tracking(Agent("test"), "hi", operation="page")

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        thread = threading.Thread(target=page_run)
        thread.start()
        thread.join()

    assert rows_by_operation(tracker, store_path) == {"page": (None, None)}
    assert "returned str instead of (user_id, organization_id)" in caplog.text


def test_ids_that_are_not_strings_are_recorded_as_text(
    tracker: UsageTracker, store_path: Path
) -> None:
    def page_run() -> None:
        bind_tracking_context(lambda: [42, 7], tracker=tracker)  # type: ignore[arg-type, return-value]  # integer ids from a database
        run_agent_sync_with_tracking(Agent("test"), "hi", operation="page")

    thread = threading.Thread(target=page_run)
    thread.start()
    thread.join()

    assert rows_by_operation(tracker, store_path) == {"page": ("42", "7")}


def test_the_failure_log_reports_again_after_its_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    failures = FailureLog(interval_seconds=60.0, clock=lambda: now[0])

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        for second in (0.0, 10.0, 20.0, 61.0, 62.0):
            now[0] = second
            failures.report("app.auth:identify", "raised LookupError")

    messages = [record.message for record in caplog.records]
    assert len(messages) == 2
    assert messages[1].endswith("(2 more since the last report)")


def test_an_async_identity_function_is_refused_without_a_warning_about_it(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def session_identity() -> Identity:
        return ("alice", "acme")

    def page_run() -> None:
        bind_tracking_context(session_identity, tracker=tracker)  # type: ignore[arg-type]  # the mistake under test
        run_agent_sync_with_tracking(Agent("test"), "hi", operation="page")

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        thread = threading.Thread(target=page_run)
        thread.start()
        thread.join()

    assert rows_by_operation(tracker, store_path) == {"page": (None, None)}
    assert "session_identity is async; this helper needs a plain function" in caplog.text
