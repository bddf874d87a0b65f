"""Search snippets, written synchronously: the publishing job calls this from a worker thread."""

from __future__ import annotations

from pydantic_ai import Agent

from brightwave.offline import Conversation, OfflineModel


def _description(conversation: Conversation) -> str:
    title = conversation.prompt.removeprefix("Page title: ")
    return f"{title}. Practical steps, real examples and a free template for small teams."


seo_agent = Agent(
    OfflineModel("gpt-4o-mini", "openai", _description),
    name="seo",
    instructions="Write a meta description under 155 characters.",
)


class SeoService:
    """Writes meta descriptions for published pages."""

    def meta_description(self, title: str) -> str:
        result = seo_agent.run_sync(f"Page title: {title}")
        return result.output
