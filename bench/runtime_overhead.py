"""What tracking adds to an agent run, for each of the six wrappers.

Bare and tracked calls alternate (which comes first flips every pair), so drift on a busy machine
hits both sides alike. Each pair gives one difference; the report shows the median difference with
a bootstrap 95% interval and its share of the bare call.

The tail is shown two ways. "p99 added" is how much later the tracked calls' 99th percentile
lies than the bare calls' (with a bootstrap interval over the pairs): the latency a caller's p99
gains, which the target is about. The 1st and 99th percentiles of the paired differences are shown
too; they measure the machine more than tracking: a pause that hits either call of a pair (the
garbage collector, the scheduler) widens both tails alike, so a p1 as far below the median as p99
is above it says the tail is the machine's. The first row measures exactly that, bare `run`
against bare `run`. The last two columns time tracking's own code directly, in a separate pass of
tracked calls: the start and the finish of each run on the caller's thread, free of the bare
call's spread (what tracking causes elsewhere, in the agent's run or on other threads, is only in
the paired differences). Records go to a real SQLite file, counted at the end.

    python bench/runtime_overhead.py [--pairs 2000] [--only run,run_sync]

Targets: median overhead <= 100 µs and <= 5% of the bare call; p99 added <= 250 µs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic_ai import Agent

import tokentrail
from tokentrail import UsageTracker
from tokentrail._run import TrackedRun

Call = Callable[[], Any]

MEDIAN_TARGET_US = 100.0
SHARE_TARGET = 0.05
P99_TARGET_US = 250.0


def calls(agent: Agent[None, str], tracker: UsageTracker) -> dict[str, tuple[Call, Call]]:
    """For each run method: (bare call, tracked call); coroutine functions for async methods."""
    keywords: dict[str, Any] = {"tracker": tracker, "user_id": "u", "tool_name": "bench"}

    async def run_bare() -> Any:
        return await agent.run("hello")

    async def run_tracked() -> Any:
        return await tokentrail.run_agent_with_tracking(agent, "hello", **keywords)

    def sync_bare() -> Any:
        return agent.run_sync("hello")

    def sync_tracked() -> Any:
        return tokentrail.run_agent_sync_with_tracking(agent, "hello", **keywords)

    async def stream_bare() -> Any:
        async with agent.run_stream("hello") as stream:
            return await stream.get_output()

    async def stream_tracked() -> Any:
        async with tokentrail.run_agent_stream_with_tracking(agent, "hello", **keywords) as stream:
            return await stream.get_output()

    def stream_sync_bare() -> Any:
        with agent.run_stream_sync("hello") as stream:
            return stream.get_output()

    def stream_sync_tracked() -> Any:
        with tokentrail.run_agent_stream_sync_with_tracking(agent, "hello", **keywords) as stream:
            return stream.get_output()

    async def events_bare() -> Any:
        async with agent.run_stream_events("hello") as events:
            return [event async for event in events]

    async def events_tracked() -> Any:
        async with tokentrail.run_agent_stream_events_with_tracking(
            agent, "hello", **keywords
        ) as events:
            return [event async for event in events]

    async def iter_bare() -> Any:
        async with agent.iter("hello") as run:
            return [node async for node in run]

    async def iter_tracked() -> Any:
        async with tokentrail.run_agent_iter_with_tracking(agent, "hello", **keywords) as run:
            return [node async for node in run]

    return {
        "run": (run_bare, run_tracked),
        "run_sync": (sync_bare, sync_tracked),
        "run_stream": (stream_bare, stream_tracked),
        "run_stream_sync": (stream_sync_bare, stream_sync_tracked),
        "run_stream_events": (events_bare, events_tracked),
        "iter": (iter_bare, iter_tracked),
    }


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def timer(call: Call, loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """Seconds one call takes: async methods timed inside `loop`, sync ones on this thread.

    `loop` runs all the time on a thread of its own, as an application's loop does, so what a
    run leaves for the loop to finish runs there between calls. The sync wrappers run on this
    thread, where no loop runs, as an application calls them.
    """
    if inspect.iscoroutinefunction(call):
        return lambda: asyncio.run_coroutine_threadsafe(timed(call), loop).result()

    def time_sync() -> float:
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    return time_sync


def measure(
    bare: Callable[[], float], tracked: Callable[[], float], pairs: int
) -> tuple[list[float], list[float]]:
    """Seconds of each bare and each tracked call, index `i` of both lists being one pair."""
    for _ in range(50):  # warm both paths
        bare()
        tracked()
    bare_times, tracked_times = [], []
    for index in range(pairs):
        if index % 2:
            tracked_time, bare_time = tracked(), bare()
        else:
            bare_time, tracked_time = bare(), tracked()
        bare_times.append(bare_time)
        tracked_times.append(tracked_time)
    return bare_times, tracked_times


@contextlib.contextmanager
def timing_tracking_code() -> Iterator[list[float]]:
    """Seconds each run spends in `TrackedRun`'s start and finish, collected while inside.

    Both are wrapped for the duration, so the calls measured inside pay for the two extra
    timer readings; the paired differences are measured outside, without them.
    """
    start, finish = TrackedRun.__init__, TrackedRun.finish
    start_times: dict[int, float] = {}
    spent: list[float] = []

    def timed_start(run: TrackedRun, *args: Any, **kwargs: Any) -> None:
        began = time.perf_counter()
        start(run, *args, **kwargs)
        start_times[id(run)] = time.perf_counter() - began

    def timed_finish(run: TrackedRun, **kwargs: Any) -> None:
        began = time.perf_counter()
        finish(run, **kwargs)
        spent.append(start_times.pop(id(run), 0.0) + time.perf_counter() - began)

    TrackedRun.__init__ = timed_start  # type: ignore[method-assign, assignment]
    TrackedRun.finish = timed_finish  # type: ignore[method-assign, assignment]
    try:
        yield spent
    finally:
        TrackedRun.__init__ = start  # type: ignore[method-assign]
        TrackedRun.finish = finish  # type: ignore[method-assign]


def tracking_code_times(tracked: Callable[[], float], calls: int) -> list[float]:
    with timing_tracking_code() as spent:
        for _ in range(calls):
            tracked()
    return spent


def bootstrap_median_interval(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    rng = random.Random(7)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(rounds * 0.025)], medians[int(rounds * 0.975)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def p99_added(bare_times: list[float], tracked_times: list[float]) -> float:
    return percentile(tracked_times, 0.99) - percentile(bare_times, 0.99)


def bootstrap_p99_added_interval(
    bare_times: list[float], tracked_times: list[float], rounds: int = 1000
) -> tuple[float, float]:
    """A 95% interval for `p99_added`, resampling whole pairs so drift stays paired."""
    rng = random.Random(7)
    pairs = range(len(bare_times))
    estimates = []
    for _ in range(rounds):
        sample = rng.choices(pairs, k=len(bare_times))
        estimates.append(
            p99_added([bare_times[i] for i in sample], [tracked_times[i] for i in sample])
        )
    estimates.sort()
    return estimates[int(rounds * 0.025)], estimates[int(rounds * 0.975)]


def interval(low: float, high: float) -> str:
    return f"[{low * 1e6:.0f}, {high * 1e6:.0f}]"


def report(
    name: str, bare_times: list[float], tracked_times: list[float], own: list[float] | None
) -> bool:
    """Print one row; whether it meets the targets (`own` is None for the row without targets)."""
    differences = [tracked - bare for bare, tracked in zip(bare_times, tracked_times, strict=True)]
    bare_median = statistics.median(bare_times)
    median = statistics.median(differences)
    added = p99_added(bare_times, tracked_times)
    ok = (
        median * 1e6 <= MEDIAN_TARGET_US
        and median / bare_median <= SHARE_TARGET
        and added * 1e6 <= P99_TARGET_US
    )

    if own is None:
        own_columns, verdict = f"{'':>8} {'':>8}", "(no target)"
    else:
        own_columns = f"{statistics.median(own) * 1e6:8.1f} {percentile(own, 0.99) * 1e6:8.1f}"
        verdict = "ok" if ok else "MISSED"
    print(
        f"{name:<18} {bare_median * 1e3:8.2f} {median * 1e6:8.1f} "
        f"{interval(*bootstrap_median_interval(differences)):>12} "
        f"{median / bare_median:6.1%} {added * 1e6:8.1f} "
        f"{interval(*bootstrap_p99_added_interval(bare_times, tracked_times)):>12} "
        f"{percentile(differences, 0.01) * 1e6:8.1f} {percentile(differences, 0.99) * 1e6:8.1f} "
        f"{own_columns}  {verdict}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2000, help="pairs per wrapper (default 2000)")
    parser.add_argument("--only", default="", help="comma-separated run methods to measure")
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    folder = Path(tempfile.mkdtemp(prefix="tokentrail-bench-"))
    store = folder / "usage.db"
    tracker = UsageTracker(f"sqlite:///{store}")
    agent: Agent[None, str] = Agent("test")
    selected = {name for name in options.only.split(",") if name}
    failures = 0

    print(
        f"{'wrapper':<18} {'bare ms':>8} {'median':>8} {'95% CI':>12} {'share':>6} "
        f"{'p99 add':>8} {'95% CI':>12} {'diff p1':>8} {'diff p99':>8} "
        f"{'own p50':>8} {'own p99':>8}  verdict (times in µs)"
    )
    # The machine's own spread: bare `run` against bare `run`, measured the same way. A tracked
    # row near this one is the machine's, not tracking's.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="bench-loop", daemon=True).start()
    bare_run = timer(calls(agent, tracker)["run"][0], loop)
    report("(bare vs bare)", *measure(bare_run, bare_run, options.pairs), own=None)
    for name, (bare, tracked) in calls(agent, tracker).items():
        if selected and name not in selected:
            continue
        if not hasattr(agent, name):
            print(f"{name:<18} not available in this pydantic-ai")
            continue
        timed_tracked = timer(tracked, loop)
        bare_times, tracked_times = measure(timer(bare, loop), timed_tracked, options.pairs)
        own = tracking_code_times(timed_tracked, options.pairs)
        failures += not report(name, bare_times, tracked_times, own)

    loop.call_soon_threadsafe(loop.stop)
    tracker.close()
    rows = sqlite3.connect(store).execute("SELECT count(*) FROM token_usage").fetchone()[0]
    print(f"\nrecords in SQLite: {rows} (store: {store})")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
