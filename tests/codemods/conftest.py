"""Shared set-up for the codemod's tests: small throwaway projects on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PYPROJECT = "[tool.tokentrail]\n\n[tool.ruff]\nline-length = 100\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project root: a `pyproject.toml` with `[tool.tokentrail]`, line length 100."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    return tmp_path


@pytest.fixture
def write_file(project: Path) -> Callable[[str, str], Path]:
    """Write a file into the project (parents created) and return its path."""

    def write(relative: str, text: str) -> Path:
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    return write
