"""Custom prices reach a remote store too: the outbox's sender applies them before delivery.

pydantic-ai prices a `claude-sonnet-4-5` response itself, so the record enters the outbox with a
cost; a configured custom price must still replace it on its way to PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from tokentrail import UsageTracker, _pricing, configure, run_agent_sync_with_tracking
from tokentrail.stores import schema

pytestmark = pytest.mark.postgres


def claude(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse(
        parts=[TextPart("A launch plan in three steps.")],
        usage=RequestUsage(input_tokens=1000, output_tokens=200),
        model_name="claude-sonnet-4-5",
        provider_name="anthropic",
    )


def delivered_costs(postgres_url: str, prices: dict[str, object] | None) -> list[tuple[str, str]]:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)
    if prices is not None:
        configure(prices=prices)
    tracker = UsageTracker(postgres_url)
    run_agent_sync_with_tracking(
        Agent(FunctionModel(claude, model_name="claude-sonnet-4-5")), "plan", tracker=tracker
    )
    assert tracker.close(10).pending == 0
    with psycopg.connect(postgres_url) as connection:
        rows = connection.execute("SELECT cost_usd, cost_source FROM token_usage").fetchall()
    return [(str(Decimal(cost).normalize()), source) for cost, source in rows]


def test_a_custom_price_replaces_the_responses_cost_before_delivery(
    postgres_url: str, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pricing, "_source", _pricing._PriceSource())

    costs = delivered_costs(
        postgres_url, {"models": [{"model": "claude-*", "input": "2", "output": "10"}]}
    )

    # 1000 input tokens at $2/M plus 200 output tokens at $10/M.
    assert costs == [("0.004", "override")]


def test_without_custom_prices_the_responses_cost_is_delivered(
    postgres_url: str, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pricing, "_source", _pricing._PriceSource())
    monkeypatch.chdir(outbox_dir.parent)
    monkeypatch.delenv("TOKENTRAIL_CONFIG", raising=False)

    [(cost, source)] = delivered_costs(postgres_url, None)

    assert source in {"pydantic-ai", "genai-prices"}
    assert Decimal(cost) > 0
