"""Social posts: the agent is built per call, because its instructions depend on the network."""

from __future__ import annotations

from pydantic_ai import Agent

from brightwave.offline import Conversation, OfflineModel

_LIMITS = {"x": 280, "linkedin": 3000}


def _post(conversation: Conversation) -> str:
    return (
        "We planned a month of content in one afternoon. The trick: start from customer "
        "questions, write one long piece, cut it into five. Thread below."
    )


class SocialPostService:
    """Turns an article into a post for one social network."""

    async def write(self, article: str, network: str) -> str:
        agent = Agent(
            OfflineModel("gpt-4o", "openai", _post),
            name="social_writer",
            instructions=f"Write one {network} post under {_LIMITS[network]} characters.",
        )
        result = await agent.run(f"Article: {article}")
        return result.output
