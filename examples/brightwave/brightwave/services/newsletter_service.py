"""The weekly newsletter, streamed synchronously into the email builder."""

from __future__ import annotations

from pydantic_ai import Agent

from brightwave.offline import Conversation, OfflineModel


def _issue(conversation: Conversation) -> str:
    return (
        "This week: how one customer halved their planning time, a template for quarterly "
        "content calendars, and three headlines that outperformed our usual ones by a wide "
        "margin. Plus: the webinar recording is up."
    )


newsletter_agent = Agent(
    OfflineModel("gpt-4o", "openai", _issue),
    name="newsletter",
    instructions="Write a friendly newsletter intro of about sixty words.",
)


class NewsletterService:
    """Writes the intro of the weekly newsletter."""

    def intro(self, highlights: list[str]) -> str:
        prompt = "Highlights: " + "; ".join(highlights)
        with newsletter_agent.run_stream_sync(prompt) as result:
            return "".join(result.stream_text(delta=True))
