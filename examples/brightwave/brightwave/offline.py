"""Offline stand-ins for the hosted models, so the app runs without keys or network.

Each `OfflineModel` answers under a real model name and provider (`gpt-4o` from `openai`,
`claude-sonnet-4-5` from `anthropic`, ...) and reports token counts in proportion to what it
reads and writes, so usage and prices come out as they would against the real model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pydantic_ai.messages import (
    ModelMessage,
    ModelResponse,
    ModelResponsePart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.function import AgentInfo, FunctionModel, FunctionStreamedResponse
from pydantic_ai.settings import ModelSettings
from pydantic_ai.tools import RunContext
from pydantic_ai.usage import RequestUsage

Reply = Callable[["Conversation"], "str | Sequence[ToolCallPart]"]
"""Writes the model's answer: text, or tool calls the agent should make first."""

# Hosted models bill the system prompt and tool definitions on every request.
_REQUEST_OVERHEAD_TOKENS = 850
_CHARACTERS_PER_TOKEN = 4


@dataclass(frozen=True)
class Conversation:
    """What the model sees on one request: the latest prompt and the tool results so far."""

    prompt: str
    tool_results: tuple[str, ...]
    prompt_tokens: int


def _text_tokens(text: str) -> int:
    return max(1, len(text) // _CHARACTERS_PER_TOKEN)


def _read(messages: Sequence[ModelMessage]) -> Conversation:
    prompt, results, tokens = "", [], _REQUEST_OVERHEAD_TOKENS
    for message in messages:
        for part in message.parts:
            if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                prompt = part.content
                tokens += _text_tokens(part.content)
            elif isinstance(part, ToolReturnPart):
                results.append(part.model_response_str())
                tokens += _text_tokens(part.model_response_str())
            elif isinstance(part, TextPart | ToolCallPart):
                tokens += _text_tokens(
                    str(part.content if isinstance(part, TextPart) else part.args)
                )
    return Conversation(prompt=prompt, tool_results=tuple(results), prompt_tokens=tokens)


@dataclass
class _OfflineStream(FunctionStreamedResponse):
    """A streamed answer that names its provider and bills the prompt, as hosted models do."""

    _provider: str = "unknown"
    _prompt_tokens: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()  # type: ignore[no-untyped-call]  # pydantic-ai leaves it unannotated
        self._usage += RequestUsage(input_tokens=self._prompt_tokens)

    @property
    def provider_name(self) -> str:  # type: ignore[override]  # the base always answers None
        return self._provider


class OfflineModel(FunctionModel):
    """A model that answers locally under a real model name and provider.

    Args:
        model_name: the hosted model this one stands in for, e.g. `gpt-4o`.
        provider: who serves it, e.g. `openai`; prices are looked up by both.
        reply: writes each answer from the conversation so far.
    """

    def __init__(self, model_name: str, provider: str, reply: Reply) -> None:
        super().__init__(self._answer, stream_function=self._stream, model_name=model_name)
        self._provider_name = provider
        self._reply = reply

    def _answer(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        conversation = _read(messages)
        answer = self._reply(conversation)
        parts: list[ModelResponsePart] = (
            [TextPart(answer)] if isinstance(answer, str) else list(answer)
        )
        written = sum(_text_tokens(str(getattr(part, "content", "") or part)) for part in parts)
        return ModelResponse(
            parts=parts,
            usage=RequestUsage(input_tokens=conversation.prompt_tokens, output_tokens=written),
            provider_name=self._provider_name,
        )

    async def _stream(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        answer = self._reply(_read(messages))
        text = answer if isinstance(answer, str) else ""
        for index in range(0, len(text), 24):
            yield text[index : index + 24]

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
        run_context: RunContext[object] | None = None,
    ) -> AsyncIterator[FunctionStreamedResponse]:
        prompt_tokens = _read(messages).prompt_tokens
        async with super().request_stream(
            messages, model_settings, model_request_parameters, run_context
        ) as streamed:
            assert isinstance(streamed, FunctionStreamedResponse)
            yield _OfflineStream(
                model_request_parameters=streamed.model_request_parameters,
                _model_name=streamed.model_name,
                _iter=streamed._iter,
                _provider=self._provider_name,
                _prompt_tokens=prompt_tokens,
            )
