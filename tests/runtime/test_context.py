"""Who a run is billed to: explicit keywords, ambient context, identity provider, defaults."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic_ai import Agent

from tokentrail import (
    UsageTracker,
    configure,
    propagate_context,
    run_agent_stream_with_tracking,
    run_agent_sync_with_tracking,
    run_agent_with_tracking,
    setup_tracking_context,
    tracking_context,
)

from .conftest import read_rows


def identities(tracker: UsageTracker, path: Path) -> list[tuple[str | None, str | None]]:
    return [(row["user_id"], row["organization_id"]) for row in read_rows(tracker, path)]


def test_explicit_keywords_beat_the_ambient_context(
    tracker: UsageTracker, store_path: Path
) -> None:
    with tracking_context(tracker=tracker, user_id="ambient", organization_id="amb-org"):
        run_agent_sync_with_tracking(Agent("test"), "x", user_id="explicit")

    # The pair resolves together: the explicit user does not borrow the ambient organization.
    assert identities(tracker, store_path) == [("explicit", None)]


def test_nested_contexts_inherit_what_they_leave_unset(
    tracker: UsageTracker, store_path: Path
) -> None:
    with tracking_context(tracker=tracker, user_id="u1", organization_id="o1"):
        with tracking_context(user_id="u2", organization_id="o2"):
            run_agent_sync_with_tracking(Agent("test"), "inner")
        with tracking_context():
            run_agent_sync_with_tracking(Agent("test"), "same")

    assert identities(tracker, store_path) == [("u2", "o2"), ("u1", "o1")]


def test_the_identity_provider_is_asked_at_run_time(
    tracker: UsageTracker, store_path: Path
) -> None:
    current = {"user": "first"}
    configure(tracker=tracker, identity_provider=lambda: (current["user"], "org"))

    run_agent_sync_with_tracking(Agent("test"), "a")
    current["user"] = "second"
    run_agent_sync_with_tracking(Agent("test"), "b")
    with tracking_context(user_id="ambient"):
        run_agent_sync_with_tracking(Agent("test"), "c")

    assert identities(tracker, store_path) == [
        ("first", "org"),
        ("second", "org"),
        ("ambient", None),
    ]


def test_a_failing_identity_provider_never_breaks_the_run(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> tuple[str | None, str | None]:
        raise LookupError("no session")

    configure(tracker=tracker, identity_provider=broken)

    result = run_agent_sync_with_tracking(Agent("test"), "a")

    assert result.output
    assert identities(tracker, store_path) == [(None, None)]
    assert "identity provider raised" in caplog.text


async def test_concurrent_tasks_keep_their_own_identity(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    async def serve(user: str) -> None:
        with tracking_context(tracker=tracker, user_id=user, organization_id=f"org-{user}"):
            await asyncio.sleep(0)
            await run_agent_with_tracking(agent, f"request from {user}")

    await asyncio.gather(*(serve(f"user{number}") for number in range(20)))

    assert sorted(identities(tracker, store_path)) == sorted(
        (f"user{number}", f"org-user{number}") for number in range(20)
    )


def test_threads_get_the_context_through_propagate_context(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    def work(prompt: str) -> str:
        return run_agent_sync_with_tracking(agent, prompt).output

    with (
        tracking_context(tracker=tracker, user_id="u1", organization_id="o1"),
        ThreadPoolExecutor(max_workers=4) as pool,
    ):
        outputs = list(pool.map(propagate_context(work), ["a", "b", "c", "d"]))

    assert len(outputs) == 4
    assert identities(tracker, store_path) == [("u1", "o1")] * 4


def test_many_threads_with_different_identities(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")
    barrier = threading.Barrier(8)

    def serve(number: int) -> None:
        barrier.wait()
        run_agent_sync_with_tracking(
            agent, "hi", tracker=tracker, user_id=f"u{number}", organization_id=f"o{number}"
        )

    threads = [threading.Thread(target=serve, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(identities(tracker, store_path)) == [(f"u{n}", f"o{n}") for n in range(8)]


class ScriptService:
    """A service the way the codemod leaves it: tracking fields and `set_tracking_context`."""

    def __init__(self, agent: Agent[None, str]) -> None:
        self.agent = agent
        self._tracker: UsageTracker | None = None
        self._user_id: str | None = None
        self._org_id: str | None = None

    def set_tracking_context(
        self, tracker: UsageTracker | None, user_id: str | None, org_id: str | None
    ) -> None:
        self._tracker, self._user_id, self._org_id = tracker, user_id, org_id

    async def stream(self, started: asyncio.Event, release: asyncio.Event) -> None:
        async with run_agent_stream_with_tracking(
            self.agent,
            "draft",
            tracker=self._tracker,
            user_id=self._user_id,
            organization_id=self._org_id,
            operation="stream",
        ) as stream:
            started.set()
            await release.wait()
            await stream.get_output()


def test_setup_tracking_context_sets_a_per_request_service(
    tracker: UsageTracker, store_path: Path
) -> None:
    service = setup_tracking_context(
        ScriptService(Agent("test")), tracker=tracker, user_id="u1", organization_id="o1"
    )
    plain = object()

    assert setup_tracking_context(plain, user_id="u1") is plain
    assert (service._tracker, service._user_id, service._org_id) == (tracker, "u1", "o1")


async def test_changing_a_shared_services_identity_mid_run_warns(
    tracker: UsageTracker, caplog: pytest.LogCaptureFixture
) -> None:
    service = setup_tracking_context(
        ScriptService(Agent("test")), tracker=tracker, user_id="alice", organization_id="a"
    )
    started, release = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(service.stream(started, release))
    await started.wait()

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        setup_tracking_context(service, tracker=tracker, user_id="bob", organization_id="b")
    release.set()
    await running

    assert "identity of a ScriptService instance changed" in caplog.text
    caplog.clear()
    setup_tracking_context(service, tracker=tracker, user_id="carol", organization_id="c")
    assert "changed" not in caplog.text
