"""Offline models for the services: answers and token counts without any network."""

from __future__ import annotations

import re

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

_TAG = re.compile(r"#(\w+)")


def writer_model(model_name: str) -> FunctionModel:
    """A model that echoes its prompt and reports a fixed usage under `model_name`.

    Its provider is `prompt-of-<tag>` for the first `#tag` in the prompt, so whoever reads the
    usage records can tell whose prompt each run served, whatever tracking context it ran in.
    """

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = _last_prompt(messages)
        tag = _TAG.search(prompt)
        return ModelResponse(
            parts=[TextPart(f"{model_name} on {prompt}")],
            usage=RequestUsage(input_tokens=120, output_tokens=30),
            model_name=model_name,
            provider_name=f"prompt-of-{tag.group(1) if tag else 'nobody'}",
        )

    return FunctionModel(answer, model_name=model_name)


def _last_prompt(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                    return part.content
    return ""
