"""Headline ideas for an article, from a module-level agent shared by every request."""

from __future__ import annotations

from pydantic_ai import Agent

from brightwave.offline import Conversation, OfflineModel


def _headlines(conversation: Conversation) -> str:
    topic = conversation.prompt.removeprefix("Topic: ")
    return "\n".join(
        [
            f"1. {topic}: what changed this quarter",
            f"2. Five mistakes teams make with {topic.lower()}",
            f"3. The quiet advantage of getting {topic.lower()} right",
            f"4. {topic}, explained in four minutes",
            f"5. Why our customers rethought {topic.lower()}",
        ]
    )


headline_agent = Agent(
    OfflineModel("gpt-4o-mini", "openai", _headlines),
    name="headlines",
    instructions="Suggest five short, specific headlines. No clickbait.",
)


class HeadlineService:
    """Suggests headlines for the editor's title field."""

    async def suggest(self, topic: str) -> list[str]:
        result = await headline_agent.run(f"Topic: {topic}")
        return result.output.splitlines()
