"""Blog post drafts, streamed to the editor as the agent writes them."""

from __future__ import annotations

from pydantic_ai import Agent

from brightwave.offline import Conversation, OfflineModel


def _draft(conversation: Conversation) -> str:
    brief = conversation.prompt.removeprefix("Brief: ")
    return (
        f"# {brief}\n\n"
        "Most teams already know what their customers ask for; the hard part is answering "
        "consistently. This post walks through how we plan a month of content in one afternoon, "
        "which pieces we reuse across channels, and the two metrics we stopped tracking.\n\n"
        "## Start from the questions\n\n"
        "Collect the last fifty support tickets and sales calls. Group them by the job the "
        "customer was trying to get done, not by product area.\n\n"
        "## Write once, cut many times\n\n"
        "A long article becomes three social posts, one newsletter section and a landing page "
        "paragraph. Plan the cuts before you write the long version.\n"
    )


class BlogPostService:
    """Drafts blog posts; the writer agent lives on the service instance."""

    def __init__(self) -> None:
        self._writer = Agent(
            OfflineModel("claude-sonnet-4-5", "anthropic", _draft),
            name="blog_writer",
            instructions="Write a clear, practical blog post in Markdown for marketing teams.",
        )

    async def draft(self, brief: str) -> str:
        chunks: list[str] = []
        async with self._writer.run_stream(f"Brief: {brief}") as result:
            async for chunk in result.stream_text(delta=True):
                chunks.append(chunk)
        return "".join(chunks)
