"""Reports: longer documents, written on request or overnight."""

from __future__ import annotations

from pydantic_ai import Agent

from services.models import writer_model


class ReportService:
    """Writes reports."""

    def __init__(self) -> None:
        self.agent = Agent(writer_model("report-writer"))

    async def write(self, topic: str) -> str:
        result = await self.agent.run(f"Write a report on {topic}.")
        return result.output

    def digest(self, topic: str) -> str:
        result = self.agent.run_sync(f"A nightly digest of {topic}.")
        return result.output
