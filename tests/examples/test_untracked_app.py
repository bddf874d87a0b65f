"""The example app as its users wrote it: every service runs, offline, and nothing is metered."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import capture_run_messages
from pydantic_ai.messages import ModelResponse

pytestmark = pytest.mark.usefixtures("brightwave_on_path")


def app(module: str) -> Any:
    """A module of the example app (imported by name: it is not part of tokentrail's sources)."""
    return importlib.import_module(module)


def test_a_busy_morning_serves_every_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "usage.db"
    monkeypatch.setenv("TOKENTRAIL_STORE", f"sqlite:///{store}")
    morning = app("brightwave.traffic").morning

    visits = asyncio.run(morning())

    assert [visit.session.user.id for visit in visits] == [
        "user-ana",
        "user-ben",
        "user-ana",
        "user-ben",
        "user-ana",
    ]
    first = visits[0].pages
    assert first["editor"] == "# Trail running gear: what changed this quarter"
    assert first["campaigns"] == "Two-week launch plan."
    assert first["publishing"].startswith("Trail running gear: what changed this quarter.")
    # Untracked runs leave no record anywhere.
    assert not store.exists()


async def test_offline_models_answer_as_the_real_ones_would_be_billed() -> None:
    headline_agent = app("brightwave.services.headline_service").headline_agent

    with capture_run_messages() as messages:
        result = await headline_agent.run("Topic: Trail running gear")
    assert len(result.output.splitlines()) == 5
    (response,) = [message for message in messages if isinstance(message, ModelResponse)]
    assert (response.model_name, response.provider_name) == ("gpt-4o-mini", "openai")
    # The request bills the instructions and the prompt, like a hosted model.
    assert response.usage.input_tokens > 850
    assert response.usage.output_tokens > 20
    assert response.usage.cost is not None
    assert response.usage.cost > 0


async def test_streamed_answers_name_their_provider_and_bill_the_prompt() -> None:
    service = app("brightwave.services.blog_post_service").BlogPostService()
    draft = await service.draft("Planning a month of content")
    assert draft.startswith("# Planning a month of content\n")

    async with service._writer.run_stream("Brief: Launch week") as streamed:
        await streamed.get_output()
    (response,) = [m for m in streamed.new_messages() if isinstance(m, ModelResponse)]
    assert (response.model_name, response.provider_name) == ("claude-sonnet-4-5", "anthropic")
    assert response.usage.input_tokens > 850
    assert response.usage.cost is not None


async def test_the_planner_delegates_each_channel_to_the_copywriter() -> None:
    campaigns = app("brightwave.services.campaign_service")

    plan = await campaigns.CampaignService().plan("the Ridgeline jacket")
    assert "- email: Subject:" in plan
    assert "- linkedin: Planning a month" in plan

    result = await campaigns.planner_agent.run("Plan the launch of X.", deps="X")
    # The copywriter's requests join the planner's shared usage (usage=ctx.usage).
    assert result.usage.requests == 4
    assert result.usage.tool_calls == 2


def test_sync_services_run_in_a_plain_thread() -> None:
    seo = app("brightwave.services.seo_service").SeoService()
    newsletter = app("brightwave.services.newsletter_service").NewsletterService()

    assert seo.meta_description("Cold brew at home").startswith("Cold brew at home. ")
    assert newsletter.intro(["a", "b"]).startswith("This week: ")


async def test_iter_and_event_stream_services() -> None:
    voice = app("brightwave.services.brand_voice_service").BrandVoiceService("Plain words.")
    social = app("brightwave.services.social_post_service").SocialPostService()
    translations = app("brightwave.services.translation_service").TranslationService()

    review, steps = await voice.review("Leverage our synergy!")
    assert review.startswith("Mostly on voice.")
    assert steps >= 3
    translation, events = await translations.translate("Hello", "French")
    assert translation.startswith("Nous avons")
    assert events > 1
    post = await social.write("Article text", "x")
    assert len(post) < 280


def test_pages_need_a_signed_in_session() -> None:
    current_session = app("brightwave.identity").current_session

    with pytest.raises(LookupError, match="no one is signed in"):
        current_session()


def test_cached_getters_share_one_instance_and_plain_getters_do_not() -> None:
    dependencies = app("brightwave.dependencies")

    assert dependencies.get_seo_service() is dependencies.get_seo_service()
    assert dependencies.get_headline_service() is not dependencies.get_headline_service()
