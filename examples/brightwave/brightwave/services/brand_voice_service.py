"""Brand voice review, walking the agent's graph to show reviewers each step as it happens."""

from __future__ import annotations

from pydantic_ai import Agent

from brightwave.offline import Conversation, OfflineModel


def _review(conversation: Conversation) -> str:
    return (
        "Mostly on voice. Replace 'leverage' with 'use', cut the exclamation marks, and open "
        "with the customer's problem rather than the feature."
    )


class BrandVoiceService:
    """Checks copy against the organization's voice guide."""

    def __init__(self, guide: str) -> None:
        self._reviewer = Agent(
            OfflineModel("claude-sonnet-4-5", "anthropic", _review),
            name="brand_reviewer",
            instructions=f"Review the copy against this voice guide: {guide}",
        )

    async def review(self, copy: str) -> tuple[str, int]:
        steps = 0
        async with self._reviewer.iter(f"Copy: {copy}") as run:
            async for _node in run:
                steps += 1
        assert run.result is not None
        return run.result.output, steps
