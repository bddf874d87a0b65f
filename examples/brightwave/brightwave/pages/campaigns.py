"""The campaign builder: a launch plan, its social post, and a translation for the EU list."""

from __future__ import annotations

from dataclasses import dataclass

from brightwave.dependencies import (
    get_campaign_service,
    get_social_post_service,
    get_translation_service,
)
from brightwave.identity import Session, signed_in


@dataclass(frozen=True)
class CampaignPage:
    plan: str
    linkedin_post: str
    french_post: str


async def build_campaign(session: Session, product: str) -> CampaignPage:
    with signed_in(session):
        plan = await get_campaign_service().plan(product)
        post = await get_social_post_service().write(plan, "linkedin")
        french, _events = await get_translation_service().translate(post, "French")
    return CampaignPage(plan=plan, linkedin_post=post, french_post=french)
