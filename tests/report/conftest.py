"""A real SQLite store holding the known rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.report.known_rows import KNOWN_ROWS

from tokentrail.stores.sqlite import SQLiteStore


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A SQLite store holding `KNOWN_ROWS`, written by tokentrail's own store."""
    store = SQLiteStore(tmp_path / "usage.db")
    store.append(KNOWN_ROWS)
    store.close()
    return f"sqlite:///{tmp_path / 'usage.db'}"
