"""The rewritten fixtures run: their agents (TestModel) leave the expected records in SQLite.

Each `after.py` is imported as a module and driven the way its caller would; the tracker writes
to a SQLite file of the test's own, read back with `sqlite3`. Services with plumbing get their
context through `set_tracking_context`; everything else takes it from `tracking_context`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic_ai import Agent

from tokentrail import UsageTracker, tracking_context

CASES_DIRECTORY = Path(__file__).parent / "fixtures" / "cases"
AMBIENT = ("ambient-user", "ambient-org")
SERVICE = ("service-user", "service-org")

Driver = Callable[[ModuleType, UsageTracker], object]


def _service(instance: Any, tracker: UsageTracker) -> Any:
    instance.set_tracking_context(tracker, *SERVICE)
    return instance


DRIVERS: dict[str, tuple[Driver, list[tuple[str, str, tuple[str, str | None]]]]] = {
    "already_tracked": (lambda m, t: m.answer("hi"), [("service", "answer", AMBIENT)]),
    "async_with_among_items": (
        lambda m, t: asyncio.run(m.first_node("hi")),
        [("service", "first_node", AMBIENT)],
    ),
    "async_with_stream": (
        lambda m, t: asyncio.run(m.stream_answer("hi")),
        [("service", "stream_answer", AMBIENT)],
    ),
    "await_run": (lambda m, t: asyncio.run(m.summarize("hi")), [("service", "summarize", AMBIENT)]),
    "base_has_plumbing": (
        lambda m, t: _service(m.ScriptService(), t).write("tea"),
        [("service", "write", SERVICE)],
    ),
    "comments_kept": (lambda m, t: m.answer("hi"), [("service", "answer", AMBIENT)]),
    "dataclass_service": (
        lambda m, t: asyncio.run(_service(m.ScriptService(Agent("test")), t).write("tea")),
        [("service", "write", SERVICE)],
    ),
    "existing_tokentrail_import": (
        lambda m, t: m.report("hi", "report-user"),
        [("service", "report", ("report-user", None))],
    ),
    "frozen_dataclass": (lambda m, t: m.Request("tea").answer(), [("service", "answer", AMBIENT)]),
    "gather_list": (
        lambda m, t: asyncio.run(m.ask_both("one", "two")),
        [("service", "ask_both", AMBIENT)] * 2,
    ),
    "keyword_order": (lambda m, t: m.greet("Ada"), [("service", "greet", AMBIENT)]),
    "long_call": (
        lambda m, t: asyncio.run(m.careful_answer("hi", {})),
        [("service", "careful_answer", AMBIENT)],
    ),
    "module_import_style": (
        lambda m, t: m.answer("hi", "style-user"),
        [("service", "answer", ("style-user", None))],
    ),
    "module_level_run_sync": (lambda m, t: m.answer, [("service", "<module>", AMBIENT)]),
    "nested_function_and_lambda": (
        lambda m, t: [function("hi") for function in m.pair()],
        [("service", "pair", AMBIENT)] * 2,
    ),
    "partial_fields": (
        lambda m, t: _service(m.ScriptService(), t).write("tea"),
        [("service", "write", SERVICE)],
    ),
    "plain_class_with_init": (
        lambda m, t: asyncio.run(_service(m.ScriptService("test"), t).write("tea")),
        [("service", "write", SERVICE)],
    ),
    "plain_class_without_init": (
        lambda m, t: _service(m.ScriptService(), t).write("tea"),
        [("service", "write", SERVICE)],
    ),
    "pydantic_service": (
        lambda m, t: _service(m.ScriptService(), t).write("tea"),
        [("service", "write", SERVICE)],
    ),
    "returned_unentered": (
        lambda m, t: asyncio.run(m.read_all("hi")),
        [("service", "open_stream", AMBIENT)],
    ),
    "run_stream_events": (
        lambda m, t: asyncio.run(m.count_events("hi")),
        [("service", "count_events", AMBIENT)],
    ),
    "run_stream_sync": (lambda m, t: m.stream_words("hi"), [("service", "stream_words", AMBIENT)]),
    "slots_class": (lambda m, t: m.Compact("tea").write(), [("service", "write", AMBIENT)]),
    "star_arguments": (lambda m, t: m.forward("hi"), [("service", "forward", AMBIENT)]),
    "static_and_class_methods": (
        lambda m, t: (m.Helpers.shout("hi"), m.Helpers.whisper("hi")),
        [("service", "shout", AMBIENT), ("service", "whisper", AMBIENT)],
    ),
    "subclass_in_same_file": (
        lambda m, t: (
            _service(m.ScriptService(), t).write("tea"),
            _service(m.ScriptService(), t).describe("tea"),
        ),
        [("service", "write", SERVICE), ("service", "describe", SERVICE)],
    ),
    "suppressed": (
        lambda m, t: (m.answer("hi"), m.tracked_answer("hi")),
        [("service", "tracked_answer", AMBIENT)],
    ),
    "unawaited_wait_for": (
        lambda m, t: asyncio.run(m.answer_within("hi", 5.0)),
        [("service", "answer_within", AMBIENT)],
    ),
    "unknown_receiver": (lambda m, t: m.answer_known("hi"), [("service", "answer_known", AMBIENT)]),
}
"""How to call each rewritten fixture, and the (tool, operation, identity) records it leaves."""

WITHOUT_RUNS = {"not_agent_runs", "super_call"}


def test_every_fixture_is_driven_or_has_no_runs() -> None:
    cases = {case.name for case in CASES_DIRECTORY.iterdir() if case.is_dir()}
    assert cases == set(DRIVERS) | WITHOUT_RUNS


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", sorted(DRIVERS))
def test_rewritten_fixture_records_its_runs(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # keep the fixture folders clean
    drive, expected = DRIVERS[case]
    database = tmp_path / "usage.db"
    tracker = UsageTracker(f"sqlite:///{database}")
    try:
        with tracking_context(tracker=tracker, user_id=AMBIENT[0], organization_id=AMBIENT[1]):
            module = _import(CASES_DIRECTORY / case / "after.py", f"rewritten_{case}")
            drive(module, tracker)
        assert tracker.flush(timeout=10).pending == 0
    finally:
        tracker.close(timeout=10)

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT tool_name, operation, user_id, organization_id, model FROM token_usage"
        ).fetchall()
    records = sorted(
        (tool, operation, (user, organization)) for tool, operation, user, organization, _ in rows
    )
    assert records == sorted(expected)
    assert {row[4] for row in rows} == {"test"}
