"""The tracker: durable local writes, background pricing, retries, and nothing ever lost."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, FunctionModel

from tokentrail import (
    StoreConfigurationError,
    UsageRecord,
    UsageTracker,
    configure,
    run_agent_sync_with_tracking,
)
from tokentrail._configure import process_tracker
from tokentrail._last_resort import unsaved_records_path
from tokentrail.stores import FlushResult, PricedCost, SQLiteStore

from .conftest import read_rows


class FlakySink:
    """A sink whose local write fails a given number of times before it works."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.records: list[UsageRecord] = []
        self.costs: list[PricedCost] = []

    def append(self, records: Sequence[UsageRecord]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk unavailable")
        self.records.extend(records)

    def set_costs(self, costs: Sequence[PricedCost]) -> None:
        self.costs.extend(costs)

    def flush(self, timeout: float | None = None) -> FlushResult:
        return FlushResult(delivered=len(self.records), pending=0)

    def close(self, timeout: float | None = None) -> FlushResult:
        return self.flush(timeout)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://usage.db", "needs a file"),
        ("postgressql://db/usage", "unknown store URL scheme 'postgressql'"),
        ("usage.db", "unknown store URL scheme"),
    ],
)
def test_a_mistyped_store_url_fails_when_configured(url: str, message: str) -> None:
    with pytest.raises(StoreConfigurationError, match=message):
        UsageTracker(url)
    with pytest.raises(StoreConfigurationError, match=message):
        configure(store=url)


def test_the_default_store_is_announced_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tokentrail import _tracker

    monkeypatch.delenv("TOKENTRAIL_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(_tracker, "_announced_default", False)

    first, second = UsageTracker(), UsageTracker()
    first.track("u", "o", UsageRecord(model="m"))
    first.flush()

    assert (tmp_path / "data" / "tokentrail" / "usage.db").exists()
    assert caplog.text.count("no store configured") == 1
    assert "TOKENTRAIL_STORE" in caplog.text
    first.close()
    second.close()


def test_require_store_turns_the_fallback_into_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENTRAIL_STORE")
    monkeypatch.setenv("TOKENTRAIL_REQUIRE_STORE", "1")

    with pytest.raises(StoreConfigurationError, match="TOKENTRAIL_REQUIRE_STORE"):
        UsageTracker()


def test_track_accepts_records_in_the_older_shape(tracker: UsageTracker, store_path: Path) -> None:
    legacy = SimpleNamespace(
        provider="openai",
        model="gpt-4o",
        tool_name="script_service",
        operation="generate",
        request_tokens=120,
        response_tokens=30,
        cost_usd=0.0012,
        duration_ms=800,
        request_metadata={"page": "scripts"},
    )

    tracker.track("u1", "o1", legacy)

    [row] = read_rows(tracker, store_path)
    assert (row["input_tokens"], row["output_tokens"]) == (120, 30)
    assert (row["cost_usd"], row["cost_source"]) == ("0.0012", "override")
    assert json.loads(row["request_metadata"]) == {"page": "scripts"}
    assert (row["user_id"], row["organization_id"]) == ("u1", "o1")


def test_a_failing_store_never_breaks_the_call_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = FlakySink(failures=2)
    tracker = UsageTracker(sink)
    agent = Agent("test")

    outputs = [run_agent_sync_with_tracking(agent, "x", tracker=tracker).output for _ in range(2)]

    assert outputs == [agent.run_sync("x").output] * 2
    assert caplog.text.count("could not write") == 1  # rate-limited
    result = tracker.close(timeout=10)
    assert len(sink.records) == 2
    assert result.pending == 0


def test_records_that_never_reach_a_store_are_saved_to_a_file(tmp_path: Path) -> None:
    tracker = UsageTracker(FlakySink(failures=1_000))

    tracker.track("u1", "o1", UsageRecord(model="gpt-4o", input_tokens=5))
    pending = tracker.flush(timeout=0.1)
    tracker.close(timeout=0.1)

    assert pending.pending == 1
    saved = [json.loads(line) for line in unsaved_records_path().read_text().splitlines()]
    assert [(record["user_id"], record["input_tokens"]) for record in saved] == [("u1", 5)]


def test_unpriced_records_are_priced_in_the_background(
    tracker: UsageTracker, store_path: Path
) -> None:
    tracker.track(None, None, UsageRecord(provider="openai", model="gpt-4o", input_tokens=1000))

    [row] = read_rows(tracker, store_path)
    assert row["cost_source"] == "genai-prices"
    assert Decimal(row["cost_usd"]) > 0


def test_a_record_survives_a_crash_right_after_the_call(tmp_path: Path) -> None:
    """The crashed process's journal is adopted by the next process that opens the store."""
    store = tmp_path / "crash.db"
    code = f"""
        import os
        from pydantic_ai import Agent
        from tokentrail import UsageTracker, run_agent_sync_with_tracking
        tracker = UsageTracker("sqlite:///{store}")
        run_agent_sync_with_tracking(Agent("test"), "x", tracker=tracker, user_id="u")
        os._exit(9)
    """

    completed = run_python(code, {})

    assert completed.returncode == 9, completed.stderr
    next_process = run_python(
        f"""
        from tokentrail import UsageTracker
        UsageTracker("sqlite:///{store}").flush()
        """,
        {},
    )
    assert next_process.returncode == 0, next_process.stderr
    rows = sqlite3.connect(store).execute("SELECT user_id, status FROM token_usage").fetchall()
    assert rows == [("u", "ok")]
    assert list((tmp_path / "crash.db.journal").iterdir()) == []


def test_the_exit_flush_finishes_background_pricing(tmp_path: Path) -> None:
    store = tmp_path / "exit.db"
    code = f"""
        from tokentrail import UsageRecord, UsageTracker
        tracker = UsageTracker("sqlite:///{store}")
        tracker.track("u", "o", UsageRecord(provider="openai", model="gpt-4o", input_tokens=10))
    """

    completed = run_python(code, {"TOKENTRAIL_EXIT_FLUSH_TIMEOUT": "30"})

    assert completed.returncode == 0, completed.stderr
    [(source,)] = sqlite3.connect(store).execute("SELECT cost_source FROM token_usage")
    assert source == "genai-prices"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "fork.db")
    store.append([UsageRecord(model="parent")])

    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child process
        try:
            store.append([UsageRecord(model="child")])
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    store.append([UsageRecord(model="parent-again")])
    store.close()

    models = sqlite3.connect(tmp_path / "fork.db").execute("SELECT model FROM token_usage")
    assert sorted(model for (model,) in models) == ["child", "parent", "parent-again"]


def test_flush_counts_what_was_delivered(tracker: UsageTracker) -> None:
    tracker.track(None, None, UsageRecord(model="a"))
    tracker.track(None, None, UsageRecord(model="b"))

    assert tracker.flush() == FlushResult(delivered=2, pending=0)
    assert tracker.flush() == FlushResult(delivered=0, pending=0)


def test_configure_rejects_conflicting_or_unsupported_settings(tracker: UsageTracker) -> None:
    with pytest.raises(ValueError, match="either tracker= or store="):
        configure(tracker=tracker, store="sqlite:///x.db")
    with pytest.raises(ValueError, match=r"prices\.gpt-4o: is not a known key"):
        configure(prices={"gpt-4o": 1})
    assert repr(tracker).startswith("UsageTracker(")


def test_an_unreadable_store_logs_without_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    tracker = UsageTracker(f"sqlite:///{blocker}/usage.db")

    with caplog.at_level(logging.WARNING):
        tracker.track("u", "o", UsageRecord(model="m"))
    tracker.close(timeout=0.1)

    assert "could not write 1 usage record(s)" in caplog.text


def test_runs_without_a_tracker_use_the_process_default(tmp_path: Path) -> None:
    agent = Agent("test")

    run_agent_sync_with_tracking(agent, "to TOKENTRAIL_STORE", user_id="env")
    process_tracker().flush()
    configured = configure(store=f"sqlite:///{tmp_path / 'configured.db'}")
    run_agent_sync_with_tracking(agent, "to the configured store", user_id="configured")

    assert configured is not None
    configured.close()
    for name, user in (("default.db", "env"), ("configured.db", "configured")):
        users = sqlite3.connect(tmp_path / name).execute("SELECT user_id FROM token_usage")
        assert [row[0] for row in users] == [user]


def test_a_pydantic_ai_without_message_capture_still_records_failures(
    monkeypatch: pytest.MonkeyPatch, tracker: UsageTracker, store_path: Path
) -> None:
    from tokentrail import _capture

    monkeypatch.setattr(_capture, "_machinery", None)

    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        run_agent_sync_with_tracking(
            Agent(FunctionModel(broken, model_name="m")), "x", tracker=tracker
        )

    [row] = read_rows(tracker, store_path)
    assert (row["model"], row["status"], row["input_tokens"]) == ("m", "error", 0)
