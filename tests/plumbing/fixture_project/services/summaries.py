"""Summaries: short versions of long texts."""

from __future__ import annotations

from pydantic_ai import Agent

from services.models import writer_model


class SummaryService:
    """Summarises texts; cheap to share, so pages keep one instance for everyone."""

    def __init__(self) -> None:
        self.agent = Agent(writer_model("summariser"))

    def summarize(self, text: str) -> str:
        result = self.agent.run_sync(f"Summarise: {text}")
        return result.output

    def headline(self, text: str) -> str:
        result = self.agent.run_sync(f"One headline for: {text}")
        return result.output
