"""Fixtures for the hardening tests: a store of each kind, and reading back what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tokentrail import UsageTracker
from tokentrail.stores import schema


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A store URL of each kind, with a private outbox folder for the remote one."""
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'usage.db'}"
    url: str = request.getfixturevalue("postgres_url")
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)
    return url


@pytest.fixture
def tracker(store_url: str) -> Iterator[UsageTracker]:
    usage_tracker = UsageTracker(store_url)
    yield usage_tracker
    usage_tracker.close(10)
