"""Campaign plans: a planner agent that delegates each channel's copy to a copywriter agent."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ToolCallPart

from brightwave.offline import Conversation, OfflineModel

CHANNELS = ("email", "linkedin")


def _plan(conversation: Conversation) -> str | Sequence[ToolCallPart]:
    if not conversation.tool_results:
        return [
            ToolCallPart("write_copy", {"channel": channel}, tool_call_id=f"copy-{channel}")
            for channel in CHANNELS
        ]
    copy = "\n".join(f"- {result}" for result in conversation.tool_results)
    return (
        f"Two-week launch plan.\nWeek 1: announce by email. Week 2: follow up on LinkedIn.\n{copy}"
    )


def _copy(conversation: Conversation) -> str:
    if "email" in conversation.prompt:
        return "Subject: Your content calendar, planned in an afternoon. Body: See how it works."
    return (
        "Planning a month of content shouldn't take a month. Here's how we do it in an afternoon."
    )


copywriter_agent = Agent(
    OfflineModel("gpt-4o", "openai", _copy),
    name="copywriter",
    instructions="Write one piece of launch copy for the channel named.",
)

planner_agent = Agent(
    OfflineModel("claude-sonnet-4-5", "anthropic", _plan),
    deps_type=str,
    name="campaign_planner",
    instructions="Plan a two-week launch. Ask the copywriter for each channel's copy.",
)


@planner_agent.tool
async def write_copy(ctx: RunContext[str], channel: str) -> str:
    """Have the copywriter write the copy for one channel of the campaign."""
    result = await copywriter_agent.run(
        f"Product: {ctx.deps}. Channel: {channel}.", usage=ctx.usage
    )
    return f"{channel}: {result.output}"


class CampaignService:
    """Plans launch campaigns."""

    async def plan(self, product: str) -> str:
        result = await planner_agent.run(f"Plan the launch of {product}.", deps=product)
        return result.output
