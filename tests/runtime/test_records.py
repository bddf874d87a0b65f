"""What a run leaves behind: exact tokens per (provider, model), for every outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic_ai import Agent, RunContext, capture_run_messages
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.models.test import TestModel
from pydantic_ai.usage import RequestUsage

from tokentrail import UsageTracker, run_agent_sync_with_tracking, run_agent_with_tracking

from .conftest import priced_model, read_rows


class ToolBrokeError(Exception):
    """Raised by a tool in these tests."""


def tool_calling_model(model_name: str = "gpt-4o", provider: str = "openai") -> FunctionModel:
    """First asks for the `lookup` tool, then answers; each response reports its own usage."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        asked_before = any(isinstance(message, ModelResponse) for message in messages)
        parts = [TextPart("done")] if asked_before else [ToolCallPart("lookup", {"term": "x"})]
        return ModelResponse(
            parts=parts,
            usage=RequestUsage(input_tokens=100, output_tokens=10),
            model_name=model_name,
            provider_name=provider,
        )

    return FunctionModel(respond, model_name=model_name)


def test_a_priced_model_gets_a_cost(tracker: UsageTracker, store_path: Path) -> None:
    import genai_prices

    agent = Agent(priced_model())

    run_agent_sync_with_tracking(agent, "tagline please", tracker=tracker)

    [row] = read_rows(tracker, store_path)
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1000, output_tokens=200),
        "claude-sonnet-4-5",
        provider_id="anthropic",
    ).total_price
    assert (row["provider"], row["model"]) == ("anthropic", "claude-sonnet-4-5")
    assert row["cost_source"] in {"pydantic-ai", "genai-prices"}
    assert float(row["cost_usd"]) == pytest.approx(float(expected))


def test_an_unknown_model_keeps_a_null_cost(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent(priced_model(model_name="in-house-llm", provider="acme-labs"))

    run_agent_sync_with_tracking(agent, "hi", tracker=tracker)

    [row] = read_rows(tracker, store_path)
    assert (row["cost_usd"], row["cost_source"]) == (None, "none")


def test_an_error_after_a_response_keeps_the_usage_spent(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent(tool_calling_model())

    @agent.tool_plain
    def lookup(term: str) -> str:
        raise ToolBrokeError(term)

    with pytest.raises(ToolBrokeError) as raised:
        run_agent_sync_with_tracking(agent, "find it", tracker=tracker)

    assert raised.value.args == ("x",)
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["error_type"]) == ("error", "ToolBrokeError")
    assert (row["provider"], row["model"]) == ("openai", "gpt-4o")
    assert (row["input_tokens"], row["output_tokens"], row["requests"]) == (100, 10, 1)
    assert row["tool_calls"] == 1


def test_a_run_failing_before_any_response_leaves_one_zero_token_record(
    tracker: UsageTracker, store_path: Path
) -> None:
    def unreachable(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ConnectionError("provider unreachable")

    agent = Agent(FunctionModel(unreachable, model_name="gpt-4o-mini"))

    with pytest.raises(ConnectionError):
        run_agent_sync_with_tracking(agent, "hello", tracker=tracker)

    [row] = read_rows(tracker, store_path)
    assert (row["model"], row["status"], row["error_type"]) == (
        "gpt-4o-mini",
        "error",
        "ConnectionError",
    )
    assert (row["input_tokens"], row["output_tokens"]) == (0, 0)


async def test_a_cancelled_run_is_recorded_as_cancelled(
    tracker: UsageTracker, store_path: Path
) -> None:
    started = asyncio.Event()

    async def slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        started.set()
        await asyncio.sleep(30)
        raise AssertionError("the run should have been cancelled")

    agent = Agent(FunctionModel(slow, model_name="gpt-4o"))
    task = asyncio.create_task(run_agent_with_tracking(agent, "slow", tracker=tracker))
    await started.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    [row] = read_rows(tracker, store_path)
    assert (row["status"], row["error_type"]) == ("cancelled", "CancelledError")


def test_delegation_with_shared_usage_counts_each_run_once(
    tracker: UsageTracker, store_path: Path
) -> None:
    child = Agent(
        priced_model(model_name="gpt-4o-mini", provider="openai", input_tokens=30, output_tokens=5)
    )
    parent = Agent(tool_calling_model(model_name="gpt-4o"), deps_type=type(None))

    @parent.tool
    async def lookup(ctx: RunContext[None], term: str) -> str:
        result = await run_agent_with_tracking(
            child, f"define {term}", usage=ctx.usage, tracker=tracker, operation="child"
        )
        return result.output

    run_agent_sync_with_tracking(parent, "research", tracker=tracker, operation="parent")

    rows = {row["operation"]: row for row in read_rows(tracker, store_path)}
    assert set(rows) == {"parent", "child"}
    assert (rows["child"]["model"], rows["child"]["input_tokens"]) == ("gpt-4o-mini", 30)
    assert (rows["parent"]["model"], rows["parent"]["input_tokens"]) == ("gpt-4o", 200)
    assert rows["parent"]["requests"] == 2
    assert rows["child"]["parent_run_id"] == rows["parent"]["run_id"]
    assert rows["parent"]["parent_run_id"] is None


def test_a_fallback_run_names_the_model_that_answered(
    tracker: UsageTracker, store_path: Path
) -> None:
    def down(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        from pydantic_ai.exceptions import ModelHTTPError

        raise ModelHTTPError(503, "primary-model")

    agent = Agent(FallbackModel(FunctionModel(down, model_name="primary-model"), priced_model()))

    run_agent_sync_with_tracking(agent, "hi", tracker=tracker)

    [row] = read_rows(tracker, store_path)
    assert (row["provider"], row["model"], row["status"]) == (
        "anthropic",
        "claude-sonnet-4-5",
        "ok",
    )


def test_the_model_comes_from_the_responses_not_the_agent(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent(TestModel())

    run_agent_sync_with_tracking(agent, "a", tracker=tracker, model=priced_model(), operation="kw")
    with agent.override(model=priced_model(model_name="gpt-4o", provider="openai")):
        run_agent_sync_with_tracking(agent, "b", tracker=tracker, operation="override")

    rows = {row["operation"]: row for row in read_rows(tracker, store_path)}
    assert rows["kw"]["model"] == "claude-sonnet-4-5"
    assert rows["override"]["model"] == "gpt-4o"


def test_a_callers_own_capture_still_receives_the_messages(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent(tool_calling_model())

    @agent.tool_plain
    def lookup(term: str) -> str:
        raise ToolBrokeError(term)

    with capture_run_messages() as messages, pytest.raises(ToolBrokeError):
        run_agent_sync_with_tracking(agent, "find it", tracker=tracker)

    assert any(isinstance(message, ModelResponse) for message in messages)
    [row] = read_rows(tracker, store_path)
    assert row["input_tokens"] == 100


def test_message_history_is_not_counted_again(tracker: UsageTracker, store_path: Path) -> None:
    agent = Agent(priced_model(input_tokens=10, output_tokens=1))
    first = agent.run_sync("first")

    run_agent_sync_with_tracking(
        agent, "second", message_history=first.all_messages(), tracker=tracker
    )

    [row] = read_rows(tracker, store_path)
    assert (row["input_tokens"], row["requests"]) == (10, 1)


def test_run_metadata_is_kept_when_small_and_json_safe(
    tracker: UsageTracker, store_path: Path
) -> None:
    agent = Agent("test")
    if "metadata" not in agent.run_sync.__code__.co_varnames:
        pytest.skip("this pydantic-ai has no run metadata")

    run_agent_sync_with_tracking(agent, "a", tracker=tracker, metadata={"ticket": 7})
    run_agent_sync_with_tracking(agent, "b", tracker=tracker, metadata={"blob": object()})

    metadata = [row["request_metadata"] for row in read_rows(tracker, store_path)]
    assert '{"method": "run_sync", "run": {"ticket": 7}}' in metadata
    assert '{"method": "run_sync"}' in metadata
