"""For any sequence of runs, the rows' token sums equal what the providers reported."""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_ai import Agent, capture_run_messages
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

from tokentrail import UsageTracker, run_agent_sync_with_tracking

from .conftest import read_rows

PROVIDERS = ["openai", "anthropic", "acme"]
MODEL_NAMES = ["gpt-4o", "claude-sonnet-4-5", "house-model"]

response_usage = st.tuples(st.integers(1, 5_000), st.integers(1, 2_000), st.sampled_from(PROVIDERS))
run_plan = st.tuples(
    st.sampled_from(MODEL_NAMES),
    st.lists(response_usage, min_size=1, max_size=4),
    st.booleans(),  # whether the run's tool fails after the last response
)


class PlannedFailureError(Exception):
    """The tool failure that ends a run planned to fail."""


def planned_agent(
    model_name: str, responses: list[tuple[int, int, str]], fail: bool
) -> Agent[None, str]:
    """An agent whose model asks for a tool until the plan runs out, with the planned usage."""

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        step = sum(isinstance(message, ModelResponse) for message in messages)
        input_tokens, output_tokens, provider = responses[step]
        last = step == len(responses) - 1
        parts = [TextPart("ok")] if last and not fail else [ToolCallPart("step", {})]
        return ModelResponse(
            parts=parts,
            usage=RequestUsage(input_tokens=input_tokens, output_tokens=output_tokens),
            provider_name=provider,
        )

    agent = Agent(FunctionModel(respond, model_name=model_name))

    @agent.tool_plain
    def step() -> str:
        if fail:
            raise PlannedFailureError
        return "next"

    return agent


def provider_reported(messages: list[ModelMessage]) -> Counter[tuple[str, str]]:
    totals: Counter[tuple[str, str]] = Counter()
    for message in messages:
        if isinstance(message, ModelResponse):
            key = (message.provider_name or "unknown", message.model_name or "unknown")
            totals[key] += message.usage.input_tokens + message.usage.output_tokens
    return totals


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plans=st.lists(run_plan, min_size=1, max_size=5))
def test_rows_add_up_to_the_reported_usage(
    tmp_path: Path, plans: list[tuple[str, list[tuple[int, int, str]], bool]]
) -> None:
    store = tmp_path / "property.db"
    store.unlink(missing_ok=True)
    tracker = UsageTracker(f"sqlite:///{store}")
    reported: Counter[tuple[str, str]] = Counter()

    for model_name, responses, fail in plans:
        agent = planned_agent(model_name, responses, fail)
        with capture_run_messages() as messages, contextlib.suppress(PlannedFailureError):
            run_agent_sync_with_tracking(agent, "go", tracker=tracker)
        reported += provider_reported(messages)

    recorded: Counter[tuple[str, str]] = Counter()
    for row in read_rows(tracker, store):
        recorded[(row["provider"], row["model"])] += row["input_tokens"] + row["output_tokens"]
    tracker.close()
    assert recorded == reported
