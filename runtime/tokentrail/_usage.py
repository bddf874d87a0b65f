"""Turn a run's own model responses into usage records, one per (provider, model).

Only the responses a run produced itself are counted: never `agent.model` (wrong under overrides
and fallbacks) and never a usage object the run may share with its parent (`usage=ctx.usage`).
Everything is read through `getattr` so the same code serves pydantic-ai 1.0 to 2.x.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class ModelUsage:
    """Tokens, requests and cost summed over the responses of one (provider, model)."""

    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    tool_calls: int = 0
    costs: list[Decimal | None] = field(default_factory=list)

    @property
    def cost(self) -> Decimal | None:
        """The summed cost, or `None` unless pydantic-ai priced every response."""
        if not self.costs or any(cost is None for cost in self.costs):
            return None
        return sum((cost for cost in self.costs if cost is not None), Decimal(0))

    def add(self, usage: Any, *, tool_calls: int = 0) -> None:
        self.input_tokens += _tokens(usage, "input_tokens", "request_tokens")
        self.output_tokens += _tokens(usage, "output_tokens", "response_tokens")
        self.cache_read_tokens += _tokens(usage, "cache_read_tokens")
        self.cache_write_tokens += _tokens(usage, "cache_write_tokens")
        self.requests += 1
        self.tool_calls += tool_calls
        cost = getattr(usage, "cost", None)
        self.costs.append(cost if isinstance(cost, Decimal) else None)


def _tokens(usage: Any, *names: str) -> int:
    for name in names:
        value = getattr(usage, name, None)
        if isinstance(value, int):
            return value
    return 0


def is_model_response(message: Any) -> bool:
    """Whether `message` is a `ModelResponse`, told by its kind without importing pydantic-ai."""
    return getattr(message, "kind", None) == "response"


def usage_by_model(
    responses: Iterable[Any], requested: Callable[[], ModelUsage]
) -> list[ModelUsage]:
    """Sum the usage of `responses` (and their failed fallback attempts) per (provider, model).

    `requested` gives the requested model, called at most once and only when needed: it names
    the provider and model of responses that do not say (pydantic-ai 1.x leaves `provider_name`
    empty for some models, a stream cut before its first chunk has no model name), and it is the
    single zero-token entry of a run that produced no response.
    """
    totals: dict[tuple[str, str], ModelUsage] = {}
    fallback: list[ModelUsage] = []

    def default() -> ModelUsage:
        if not fallback:
            fallback.append(requested())
        return fallback[0]

    def entry(source: Any) -> ModelUsage:
        provider = getattr(source, "provider_name", None) or default().provider
        model = getattr(source, "model_name", None) or default().model
        key = (provider, model)
        if key not in totals:
            totals[key] = ModelUsage(provider, model)
        return totals[key]

    for response in responses:
        for attempt in getattr(response, "failed_attempts", None) or ():
            usage = getattr(attempt, "usage", None)
            if usage is not None:
                entry(attempt).add(usage)
        calls = sum(1 for part in response.parts if getattr(part, "part_kind", "") == "tool-call")
        entry(response).add(response.usage, tool_calls=calls)
    return list(totals.values()) or [default()]


def own_responses(messages: list[Any], history: Iterable[Any] | None) -> list[Any]:
    """The responses among `messages` that the run produced, leaving out its message history.

    pydantic-ai fills a run's message list with its history first. Where messages carry a run id
    (late 1.x and 2.x) the run's own ones share the id of the last message; otherwise the
    responses equal to one in the history passed in are left out.
    """
    responses = [message for message in messages if is_model_response(message)]
    if not responses:
        return []
    run_id = getattr(messages[-1], "run_id", None)
    if run_id is not None:
        return [response for response in responses if getattr(response, "run_id", None) == run_id]
    old = [message for message in history or () if is_model_response(message)]
    return [response for response in responses if response not in old]
