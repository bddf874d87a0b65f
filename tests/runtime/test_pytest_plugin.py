"""The test-suite guard, on small real suites run by pytester with real TestModel agents."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

_SUITE = """
import asyncio

import pytest
from pydantic_ai import Agent, RunContext

from tokentrail import run_agent_sync_with_tracking, run_agent_with_tracking

child = Agent("test", name="child")
parent = Agent("test", name="parent")


@parent.tool
async def delegate_untracked(ctx: RunContext[None], topic: str) -> str:
    result = await child.run(topic, usage=ctx.usage)
    return result.output


tracked_parent = Agent("test", name="tracked_parent")


@tracked_parent.tool
async def delegate_tracked(ctx: RunContext[None], topic: str) -> str:
    result = await run_agent_with_tracking(child, topic, usage=ctx.usage)
    return result.output


def test_untracked_run():
    assert child.run_sync("hello").output


def test_tracked_run():
    assert run_agent_sync_with_tracking(child, "hello").output


def test_untracked_child_inside_tracked_parent():
    assert run_agent_sync_with_tracking(parent, "hello").output


def test_tracked_child_inside_tracked_parent():
    assert run_agent_sync_with_tracking(tracked_parent, "hello").output


def test_untracked_stream():
    async def stream():
        async with child.run_stream("hello") as result:
            return await result.get_output()

    assert asyncio.run(stream())


@pytest.mark.tokentrail_untracked
def test_untracked_on_purpose():
    assert child.run_sync("hello").output


@pytest.fixture
def warmed_up():
    child.run_sync("warm up")


def test_untracked_run_in_a_fixture(warmed_up):
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A project whose tests make tracked and untracked runs, recording into its own SQLite."""
    pytester.makepyfile(test_agents=_SUITE)
    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{pytester.path / 'usage.db'}")
    return pytester


def _outcomes(result: pytest.RunResult) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for report_line in result.outlines:
        if "::test_" in report_line and (" PASSED" in report_line or " FAILED" in report_line):
            name = report_line.split("::", 1)[1].split()[0]
            outcomes[name] = "passed" if " PASSED" in report_line else "failed"
        if report_line.startswith("ERROR") and "::test_" in report_line:
            outcomes[report_line.split("::", 1)[1].split()[0]] = "error"
    return outcomes


def test_the_guard_is_off_by_default(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)


def test_the_guard_fails_untracked_runs_and_judges_children_on_their_own(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_subprocess("-v", "-p", "no:cacheprovider", "--tokentrail-guard")
    assert _outcomes(result) == {
        "test_untracked_run": "failed",
        "test_tracked_run": "passed",
        "test_untracked_child_inside_tracked_parent": "failed",
        "test_tracked_child_inside_tracked_parent": "passed",
        "test_untracked_stream": "failed",
        "test_untracked_on_purpose": "passed",
        "test_untracked_run_in_a_fixture": "error",
    }
    result.stdout.fnmatch_lines(
        [
            "*tokentrail guard: 1 agent run(s) outside a tokentrail wrapper during the test:",
            "*agent 'child' ran untracked at *test_agents.py:*delegate_untracked*",
        ]
    )
    result.stdout.fnmatch_lines(["*during setup:*", "*test_agents.py:* in warmed_up*"])


def test_the_ini_setting_enables_the_guard(suite: pytest.Pytester) -> None:
    suite.makeini("[pytest]\ntokentrail_guard = true\n")
    result = suite.runpytest_subprocess("-p", "no:cacheprovider", "-k", "test_untracked_run")
    result.assert_outcomes(failed=1, errors=1, deselected=5)


def test_installed_but_disabled_it_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_modules="""
import sys

def test_nothing_heavy_is_loaded():
    heavy = {"pydantic_ai", "genai_prices", "supabase", "psycopg", "libcst"}
    assert sorted(heavy & set(sys.modules)) == []
    assert "tokentrail.pytest_plugin" in sys.modules
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_patch_reads_and_clears_the_mark_and_uninstalls_cleanly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pydantic_ai import Agent

    from tokentrail import run_agent_sync_with_tracking
    from tokentrail._guard import tracked_run_starting
    from tokentrail.pytest_plugin import _Guard

    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{tmp_path / 'usage.db'}")
    agent = Agent("test", name="direct")
    original = Agent.iter
    guard = _Guard()
    guard.install()
    try:
        assert Agent.iter is not original
        run_agent_sync_with_tracking(agent, "hello")
        assert guard.untracked_runs == []
        assert tracked_run_starting.get() is False

        tracked_run_starting.set(True)
        with contextlib.closing(asyncio.new_event_loop()) as loop:
            loop.run_until_complete(agent.run("hello"))
        assert guard.untracked_runs == []
        assert tracked_run_starting.get() is True
        tracked_run_starting.set(False)

        with contextlib.closing(asyncio.new_event_loop()) as loop:
            loop.run_until_complete(agent.run("hello"))
        [message] = guard.untracked_runs
        assert message.startswith("agent 'direct' ran untracked at ")
        assert "test_pytest_plugin.py" in message
    finally:
        guard.uninstall()
    assert Agent.iter is original
    guard.uninstall()
    assert Agent.iter is original


async def test_an_untracked_run_inside_a_tracked_block_is_caught(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pydantic_ai import Agent

    from tokentrail import (
        run_agent_iter_with_tracking,
        run_agent_stream_events_with_tracking,
        run_agent_stream_with_tracking,
    )
    from tokentrail.pytest_plugin import _Guard

    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{tmp_path / 'usage.db'}")
    tracked, stray = Agent("test", name="tracked"), Agent("test", name="stray")
    guard = _Guard()
    guard.install()
    try:
        async with run_agent_stream_with_tracking(tracked, "a") as stream:
            await stray.run("inside a stream")
            await stream.get_output()
        async with run_agent_iter_with_tracking(tracked, "b") as run:
            await stray.run("inside an iter")
            async for _node in run:
                pass
        if hasattr(tracked, "run_stream_events"):
            async with run_agent_stream_events_with_tracking(tracked, "c") as events:
                async for _event in events:
                    await stray.run("inside an event stream")
                    break
    finally:
        guard.uninstall()

    strays = [message for message in guard.untracked_runs if "'stray'" in message]
    expected = 3 if hasattr(tracked, "run_stream_events") else 2
    assert len(strays) == expected
    assert not [message for message in guard.untracked_runs if "'tracked'" in message]
