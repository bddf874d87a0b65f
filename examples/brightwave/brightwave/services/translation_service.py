"""Translations, with progress events forwarded to the browser while the agent works."""

from __future__ import annotations

from pydantic_ai import Agent
from pydantic_ai.run import AgentRunResultEvent

from brightwave.offline import Conversation, OfflineModel


def _translate(conversation: Conversation) -> str:
    return (
        "Nous avons planifié un mois de contenu en un après-midi : partir des questions des "
        "clients, écrire un long article, puis le découper en cinq."
    )


translation_agent = Agent(
    OfflineModel("gpt-4o-mini", "openai", _translate),
    name="translator",
    instructions="Translate the text faithfully, keeping the brand's tone.",
)


class TranslationService:
    """Translates copy into another language."""

    async def translate(self, text: str, language: str) -> tuple[str, int]:
        events_seen = 0
        translation = ""
        async with translation_agent.run_stream_events(f"To {language}: {text}") as events:
            async for event in events:
                events_seen += 1
                if isinstance(event, AgentRunResultEvent):
                    translation = event.result.output
        return translation, events_seen
