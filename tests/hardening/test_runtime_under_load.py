"""The runtime with real pydantic-ai agents, many at once, on SQLite and on PostgreSQL.

Each test counts: every run handed to the tracker is in the store exactly once, whatever
threads, tasks or forked processes made it.
"""

from __future__ import annotations

import asyncio
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage
from tests.hardening.store_rows import stored_operations

from tokentrail import (
    UsageTracker,
    run_agent_sync_with_tracking,
    run_agent_with_tracking,
)

THREADS = 8
RUNS_PER_THREAD = 40
TASKS = 200


def _answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart("ok")],
        usage=RequestUsage(input_tokens=3, output_tokens=2),
        model_name="load-model",
        provider_name="test",
    )


AGENT = Agent(FunctionModel(_answer, model_name="load-model"))


def test_many_threads_record_each_run_once(store_url: str, tracker: UsageTracker) -> None:
    def worker(thread: int) -> None:
        for number in range(RUNS_PER_THREAD):
            result = run_agent_sync_with_tracking(
                AGENT, "hi", tracker=tracker, operation=f"t{thread}-{number}", user_id="u"
            )
            assert result.output == "ok"

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))
    assert tracker.flush(30).pending == 0

    operations = stored_operations(store_url)
    assert len(operations) == THREADS * RUNS_PER_THREAD
    assert set(operations) == {
        f"t{thread}-{number}" for thread in range(THREADS) for number in range(RUNS_PER_THREAD)
    }


async def test_many_tasks_record_each_run_once(store_url: str, tracker: UsageTracker) -> None:
    async def one(number: int) -> str:
        result = await run_agent_with_tracking(
            AGENT, "hi", tracker=tracker, operation=f"a{number}", user_id="u"
        )
        return result.output

    outputs = await asyncio.gather(*(one(number) for number in range(TASKS)))
    assert outputs == ["ok"] * TASKS
    assert (await asyncio.to_thread(tracker.flush, 30)).pending == 0

    operations = stored_operations(store_url)
    assert sorted(operations) == sorted(f"a{number}" for number in range(TASKS))


def test_threads_and_tasks_at_once_on_one_tracker(store_url: str, tracker: UsageTracker) -> None:
    start = threading.Barrier(THREADS + 1)

    def threaded(thread: int) -> None:
        start.wait()
        for number in range(RUNS_PER_THREAD):
            run_agent_sync_with_tracking(
                AGENT, "hi", tracker=tracker, operation=f"t{thread}-{number}"
            )

    async def tasks() -> None:
        start.wait()
        await asyncio.gather(
            *(
                run_agent_with_tracking(AGENT, "hi", tracker=tracker, operation=f"a{number}")
                for number in range(TASKS)
            )
        )

    threads = [threading.Thread(target=threaded, args=(thread,)) for thread in range(THREADS)]
    for thread in threads:
        thread.start()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(tasks())
    finally:
        loop.close()
    for thread in threads:
        thread.join()
    assert tracker.flush(30).pending == 0

    operations = stored_operations(store_url)
    assert len(operations) == len(set(operations)) == THREADS * RUNS_PER_THREAD + TASKS


def _fork() -> int:
    with warnings.catch_warnings():
        # Python 3.12+ warns that forking a threaded process can deadlock; preforking servers
        # fork after start-up anyway, which is what this test checks.
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _files_named_for(pid: int, folder: Path) -> list[Path]:
    return [path for path in folder.rglob(f"{pid}-*") if path.is_file()]


def test_a_forked_child_shares_no_file_or_connection_with_its_parent(
    store_url: str, tracker: UsageTracker, tmp_path: Path
) -> None:
    run_agent_sync_with_tracking(AGENT, "hi", tracker=tracker, operation="parent-before")
    assert tracker.flush(30).pending == 0
    parent = os.getpid()
    reader, writer = os.pipe()

    child = _fork()
    if child == 0:
        code = 1
        try:
            os.close(reader)
            for number in range(20):
                run_agent_sync_with_tracking(
                    AGENT, "hi", tracker=tracker, operation=f"child-{number}"
                )
            pending = tracker.flush(30).pending
            own_files = len(_files_named_for(os.getpid(), tmp_path))
            report = f"{pending} {own_files} {_backend_pid(tracker)}"
            tracker.close(30)
            os.write(writer, report.encode())
            code = 0
        except Exception as error:  # noqa: BLE001 - the parent's assertion shows it
            os.write(writer, f"error {type(error).__name__}: {error}".encode())
        finally:
            os._exit(code)
    os.close(writer)
    _, status = os.waitpid(child, 0)
    with os.fdopen(reader) as stream:
        report = stream.read()
    assert os.waitstatus_to_exitcode(status) == 0, report
    child_pending, child_files, child_backend = report.split()

    run_agent_sync_with_tracking(AGENT, "hi", tracker=tracker, operation="parent-after")
    assert tracker.flush(30).pending == 0

    assert child_pending == "0"
    operations = stored_operations(store_url)
    assert sorted(operations) == sorted(
        ["parent-before", "parent-after", *(f"child-{number}" for number in range(20))]
    )
    # The child wrote through local files of its own (named by its pid), not the parent's.
    assert int(child_files) > 0
    assert _files_named_for(parent, tmp_path), "the parent keeps its own local files"
    if store_url.startswith("postgres"):
        assert child_backend not in {"none", _backend_pid(tracker)}


def _backend_pid(tracker: UsageTracker) -> str:
    """The PostgreSQL session the tracker's sender uses, or `none` for other stores.

    Reaches into the sink on purpose: whether a forked child opened its own session is not
    visible through the public interface.
    """
    sink = tracker._sink
    seen: set[int] = set()
    while sink is not None and id(sink) not in seen:
        seen.add(id(sink))
        store = getattr(sink, "_store", None)
        connection = getattr(store, "_connection", None)
        if isinstance(connection, psycopg.Connection) and not connection.closed:
            return str(connection.info.backend_pid)
        sink = getattr(sink, "_store", None) or getattr(sink, "_target", None)
    return "none"
