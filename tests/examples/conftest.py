"""The example app on the import path, and a fresh copy of it for tests that rewrite it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BRIGHTWAVE = EXAMPLES / "brightwave"


@pytest.fixture
def brightwave_on_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Import `brightwave` from the example, and forget it afterwards (a copy may differ)."""
    monkeypatch.syspath_prepend(str(BRIGHTWAVE))
    yield
    for name in [name for name in sys.modules if name.split(".")[0] == "brightwave"]:
        del sys.modules[name]


@pytest.fixture
def brightwave_copy(tmp_path: Path) -> Path:
    """A copy of the example project, safe to rewrite."""
    copy = tmp_path / "brightwave"
    shutil.copytree(BRIGHTWAVE, copy, ignore=shutil.ignore_patterns("__pycache__", ".tokentrail"))
    return copy
