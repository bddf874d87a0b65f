"""The rewritten code passes the gates a user's project runs: isort order, format, strict types.

Every `after.py` of `fixtures/cases` (as `case_<name>.py`) and the `after` tree of the fixture
project are copied into one project of their own, so this repository's configuration (which
excludes fixtures) plays no part, and each tool runs once over all of them as a subprocess.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tokentrail

FIXTURES = Path(__file__).parent / "fixtures"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rewritten")
    for case in sorted((FIXTURES / "cases").iterdir()):
        shutil.copy(case / "after.py", root / f"case_{case.name}.py")
    shutil.copytree(FIXTURES / "projects" / "services" / "after", root, dirs_exist_ok=True)
    return root


def _run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # mypy reads the runtime from its source root, as typed source.
    runtime_root = Path(tokentrail.__file__).resolve().parents[1]
    return subprocess.run(
        arguments,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPYPATH": str(runtime_root)},
    )


def test_imports_are_sorted(rewritten: Path) -> None:
    completed = _run([str(BIN / "ruff"), "check", "--select", "I", "--no-cache", "."], rewritten)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_formatting_is_stable(rewritten: Path) -> None:
    completed = _run([str(BIN / "ruff"), "format", "--check", "--no-cache", "."], rewritten)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_strict_types_hold(rewritten: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "mypy-cache")
    completed = _run([str(BIN / "mypy"), "--strict", "--cache-dir", cache, "."], rewritten)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Success" in completed.stdout
