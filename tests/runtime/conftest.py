"""Fixtures for the runtime suite: a tracker on a real SQLite file, and models that report usage."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from tokentrail import UsageTracker, _context


@pytest.fixture(autouse=True)
def fresh_process_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts with no configured tracker or identity provider, and a private store."""
    monkeypatch.setattr(_context, "_defaults", _context._Defaults())
    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.setenv("TOKENTRAIL_OUTBOX_DIR", str(tmp_path / "outbox"))


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "usage.db"


@pytest.fixture
def tracker(store_path: Path) -> Iterator[UsageTracker]:
    usage_tracker = UsageTracker(f"sqlite:///{store_path}")
    yield usage_tracker
    usage_tracker.close()


def read_rows(tracker: UsageTracker, path: Path) -> list[dict[str, Any]]:
    """Flush `tracker` and return the rows of its SQLite file, oldest first."""
    tracker.flush()
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute("SELECT * FROM token_usage ORDER BY created_at, model").fetchall()
    finally:
        connection.close()
    return [dict(row) for row in rows]


def priced_model(
    model_name: str = "claude-sonnet-4-5",
    provider: str = "anthropic",
    input_tokens: int = 1000,
    output_tokens: int = 200,
) -> FunctionModel:
    """A model that answers with a fixed text and reports the given usage and provider."""

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(
            parts=[TextPart("Fresh ideas for your launch.")],
            usage=RequestUsage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_name=model_name,
            provider_name=provider,
        )

    return FunctionModel(answer, model_name=model_name)
