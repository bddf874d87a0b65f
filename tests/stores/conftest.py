"""Fixtures for the store tests; the PostgreSQL server comes from `tests/conftest.py`."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def outbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private outbox folder, also set as `TOKENTRAIL_OUTBOX_DIR`."""
    folder = tmp_path / "outbox"
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(folder))
    return folder
