"""`tracking_job`: each call of a background job runs as the user and organization it is for."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, assert_type

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
from tokentrail._context import _ambient

from .conftest import read_rows

Identity = tuple[str | None, str | None]


@dataclass(frozen=True)
class Owner:
    user_id: str
    organization_id: str


def rows_by_operation(tracker: UsageTracker, path: Path) -> dict[str, Identity]:
    return {
        row["operation"]: (row["user_id"], row["organization_id"])
        for row in read_rows(tracker, path)
    }


def owner_of(report_id: str, owner: Owner) -> Identity:
    return owner.user_id, owner.organization_id


def test_pool_workers_run_each_job_as_its_owner(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")
    owners = [Owner("alice", "acme"), Owner("bob", "globex")]
    two_at_once = threading.Barrier(2)

    @tracking_job(owner_of, tracker=tracker)
    def build_report(report_id: str, owner: Owner) -> str:
        if report_id in {"r0", "r1"}:
            two_at_once.wait()  # the first two jobs run side by side on the two workers
        # A binding made inside the job ends with it, so the worker thread keeps nothing.
        bind_tracking_context(lambda: (owner.user_id, owner.organization_id))
        return run_agent_sync_with_tracking(agent, "summary", operation=report_id).output

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(build_report, f"r{number}", owners[number % 2]) for number in range(10)
        ]
        outputs = [future.result() for future in futures]
        leftovers = [pool.submit(_ambient.get).result() for _ in range(4)]

    assert len(outputs) == 10
    assert leftovers == [None] * 4
    recorded = rows_by_operation(tracker, store_path)
    assert recorded == {
        f"r{number}": (owners[number % 2].user_id, owners[number % 2].organization_id)
        for number in range(10)
    }


async def test_async_jobs_keep_their_owner_across_awaits(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    @tracking_job(lambda job_id, owner: (owner.user_id, owner.organization_id), tracker=tracker)
    async def index_documents(job_id: str, owner: Owner) -> int:
        await asyncio.sleep(0)
        result = await run_agent_with_tracking(agent, "index", operation=job_id)
        return len(result.output)

    lengths = await asyncio.gather(
        *(
            index_documents(f"job{number}", Owner(f"user{number}", f"org{number % 3}"))
            for number in range(12)
        )
    )

    assert all(length > 0 for length in lengths)
    assert inspect.iscoroutinefunction(index_documents)
    assert rows_by_operation(tracker, store_path) == {
        f"job{number}": (f"user{number}", f"org{number % 3}") for number in range(12)
    }


class NightlyDigest:
    """A job class: the identity function receives `self` with the job's arguments."""

    def __init__(self, owner: Owner) -> None:
        self.owner = owner
        self.agent = Agent("test")

    @tracking_job(lambda self, day: (self.owner.user_id, self.owner.organization_id))
    def send(self, day: str) -> str:
        return run_agent_sync_with_tracking(self.agent, f"digest for {day}", operation=day).output


def test_methods_receive_self_in_the_identity_function(
    tracker: UsageTracker, store_path: Path
) -> None:
    with tracking_context(tracker=tracker):
        NightlyDigest(Owner("alice", "acme")).send("monday")
        NightlyDigest(Owner("bob", "globex")).send(day="tuesday")

    assert rows_by_operation(tracker, store_path) == {
        "monday": ("alice", "acme"),
        "tuesday": ("bob", "globex"),
    }
    assert NightlyDigest.send.__name__ == "send"
    assert list(inspect.signature(NightlyDigest.send).parameters) == ["self", "day"]


def test_fixed_ids_and_the_callers_identity(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent("test")

    @tracking_job(user_id="scheduler", organization_id="ops", tracker=tracker)
    def cleanup() -> None:
        run_agent_sync_with_tracking(agent, "clean", operation="cleanup")

    @tracking_job(tracker=tracker)
    def inline() -> None:
        run_agent_sync_with_tracking(agent, "inline", operation="inline")

    with tracking_context(user_id="alice", organization_id="acme"):
        cleanup()
        inline()  # no identity of its own: the caller's

    assert rows_by_operation(tracker, store_path) == {
        "cleanup": ("scheduler", "ops"),
        "inline": ("alice", "acme"),
    }


def test_an_identity_of_none_clears_the_callers_identity(
    tracker: UsageTracker, store_path: Path
) -> None:
    @tracking_job(lambda: None, tracker=tracker)
    def anonymous() -> None:
        run_agent_sync_with_tracking(Agent("test"), "x", operation="anonymous")

    with tracking_context(user_id="alice", organization_id="acme"):
        anonymous()

    assert rows_by_operation(tracker, store_path) == {"anonymous": (None, None)}


def test_a_failing_identity_function_never_fails_the_job(
    tracker: UsageTracker, store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def lookup_owner(report_id: str) -> Identity:
        raise LookupError(f"no owner for {report_id} (api key sk-secret)")

    @tracking_job(lookup_owner, tracker=tracker)
    def build(report_id: str) -> str:
        return run_agent_sync_with_tracking(Agent("test"), "x", operation=report_id).output

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        assert build("r1")

    assert rows_by_operation(tracker, store_path) == {"r1": (None, None)}
    assert "lookup_owner raised LookupError" in caplog.text
    assert "sk-secret" not in caplog.text


def test_the_jobs_own_exceptions_propagate_and_the_context_is_restored(
    tracker: UsageTracker,
) -> None:
    @tracking_job(user_id="alice", tracker=tracker)
    def failing() -> None:
        raise ValueError("the job's own error")

    with pytest.raises(ValueError, match="the job's own error"):
        failing()
    assert _ambient.get() is None


def test_generators_and_a_missing_call_are_refused() -> None:
    def produce() -> object:
        yield "chunk"

    async def produce_async() -> object:
        yield "chunk"

    for generator_function in (produce, produce_async):
        with pytest.raises(TypeError, match="generator function"):
            tracking_job()(generator_function)

    def job(report_id: str) -> None:
        del report_id

    forgot_parentheses = tracking_job(job)
    with pytest.raises(TypeError, match=r"write @tracking_job\(\)"):
        forgot_parentheses("r1")  # type: ignore[arg-type]  # the misuse this error explains


async def test_an_async_job_behind_a_plain_wrapper_runs_its_body_in_the_context(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")

    async def index(job_id: str) -> str:
        result = await run_agent_with_tracking(agent, "index", operation=job_id)
        return result.output

    def queued(job_id: str) -> Coroutine[Any, Any, str]:
        return index(job_id)  # a plain function handing back the coroutine, as some queues do

    job = tracking_job(user_id="alice", organization_id="acme", tracker=tracker)(queued)

    pending = job("late")
    assert _ambient.get() is None  # the call has returned; the coroutine has not run yet
    assert await pending

    assert rows_by_operation(tracker, store_path) == {"late": ("alice", "acme")}


async def test_decorated_jobs_keep_their_types_for_type_checkers() -> None:
    @tracking_job()
    def add(left: int, right: int = 1) -> int:
        return left + right

    @tracking_job(lambda name: None)
    async def shout(name: str) -> bytes:
        return name.upper().encode()

    # mypy checks these in the gate; at run time they return their argument.
    assert assert_type(add(1, right=2), int) == 3
    assert assert_type(await shout("hi"), bytes) == b"HI"
