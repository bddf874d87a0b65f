"""The fixture project after `tokentrail codemod`, importable, with its tracker on a SQLite file."""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tokentrail import UsageTracker, _context, configure

FIXTURE_PROJECT = Path(__file__).resolve().parent / "fixture_project"
PROJECT_PACKAGES = ("auth", "services", "ui", "jobs")


def run_tokentrail(arguments: list[str], project: Path) -> subprocess.CompletedProcess[str]:
    """`python -m tokentrail ...` in the project, as a user runs it."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, "-m", "tokentrail", *arguments],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Rewritten:
    """The copy of the fixture project and what `tokentrail codemod` said about it."""

    root: Path
    codemod: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory: pytest.TempPathFactory) -> Rewritten:
    root = tmp_path_factory.mktemp("plumbing") / "project"
    shutil.copytree(FIXTURE_PROJECT, root, ignore=shutil.ignore_patterns("__pycache__"))
    return Rewritten(root, run_tokentrail(["codemod", "."], root))


@dataclass(frozen=True)
class RunningApp:
    """The rewritten project imported in this process, recording into `store`."""

    root: Path
    tracker: UsageTracker
    store: Path

    def rows(self) -> list[dict[str, Any]]:
        """Every usage record the app left so far."""
        self.tracker.flush()
        connection = sqlite3.connect(self.store)
        connection.row_factory = sqlite3.Row
        try:
            rows = connection.execute("SELECT * FROM token_usage").fetchall()
        finally:
            connection.close()
        return [dict(row) for row in rows]


@pytest.fixture
def running_app(
    rewritten: Rewritten, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[RunningApp]:
    """The rewritten project on `sys.path`, freshly imported, with a tracker of its own."""
    assert rewritten.codemod.returncode == 0, rewritten.codemod.stdout + rewritten.codemod.stderr
    monkeypatch.setattr(_context, "_defaults", _context._Defaults())
    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{tmp_path / 'unexpected.db'}")
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.syspath_prepend(str(rewritten.root))
    importlib.invalidate_caches()
    store = tmp_path / "usage.db"
    tracker = UsageTracker(f"sqlite:///{store}")
    configure(tracker=tracker)
    try:
        yield RunningApp(rewritten.root, tracker, store)
    finally:
        tracker.close()
        for name in [name for name in sys.modules if name.split(".")[0] in PROJECT_PACKAGES]:
            del sys.modules[name]
