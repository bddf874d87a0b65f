"""Scripts: drafts and titles for videos."""

from __future__ import annotations

from pydantic_ai import Agent

from services.models import writer_model


class ScriptService:
    """Writes video scripts."""

    def __init__(self) -> None:
        self.writer = Agent(writer_model("script-writer"))

    def draft(self, topic: str) -> str:
        result = self.writer.run_sync(f"Draft a short script about {topic}.")
        return result.output

    async def title(self, topic: str) -> str:
        result = await self.writer.run(f"A title for a video about {topic}.")
        return result.output
