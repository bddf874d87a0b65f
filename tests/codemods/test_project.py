"""A project of several modules: agents imported across modules, names from module paths."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tokentrail
from tokentrail import UsageTracker
from tokentrail_codemods import apply

PROJECT = Path(__file__).parent / "fixtures" / "projects" / "services"


def _python_files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*.py"))
        if ".tokentrail" not in path.parts
    }


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "before", root)
    return root


def test_whole_project_matches_the_after_tree(copy: Path) -> None:
    result = apply([copy], write=True)

    assert _python_files(copy) == _python_files(PROJECT / "after")
    assert result.rewritten == {"run": 2, "run_sync": 4}
    assert [name for _, name in result.plumbed_classes] == ["ScriptService"]
    assert apply([copy], write=True).changed == []


def test_only_files_under_the_given_paths_are_written(copy: Path) -> None:
    before = _python_files(copy)

    result = apply([copy / "app" / "services"], write=True)

    after = _python_files(copy)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"app/services/__init__.py", "app/services/script_service.py"}
    assert {change.path.name for change in result.changed} == {"__init__.py", "script_service.py"}
    # Names still come from the whole project: `utils` is ambiguous, `__init__` is dotted.
    assert 'tool_name="app.services"' in after["app/services/__init__.py"]


@pytest.fixture
def after_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # keep the fixture folders clean
    root = PROJECT / "after"
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name == "app" or name.startswith("app.")]:
            del sys.modules[name]


def test_the_rewritten_service_records_under_its_module_name(
    after_on_path: Path, tmp_path: Path
) -> None:
    from app.services.script_service import ScriptService  # type: ignore[import-not-found]  # the fixture tree is put on sys.path by the fixture

    database = tmp_path / "usage.db"
    tracker = UsageTracker(f"sqlite:///{database}")
    service = ScriptService()
    tokentrail.setup_tracking_context(
        service, tracker=tracker, user_id="u-1", organization_id="o-1"
    )
    asyncio.run(service.draft("tea"))
    tracker.close(timeout=10)

    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT tool_name, operation, user_id, organization_id FROM token_usage"
        ).fetchall()
    assert rows == [("script_service", "draft", "u-1", "o-1")] * 2
