"""The editor: headlines for a topic, then a streamed draft, checked against the voice guide."""

from __future__ import annotations

from dataclasses import dataclass

from brightwave.dependencies import (
    get_blog_post_service,
    get_brand_voice_service,
    get_headline_service,
)
from brightwave.identity import Session, signed_in


@dataclass(frozen=True)
class EditorPage:
    headlines: list[str]
    draft: str
    voice_review: str


async def open_editor(session: Session, topic: str) -> EditorPage:
    with signed_in(session):
        headlines = await get_headline_service().suggest(topic)
        draft = await get_blog_post_service().draft(headlines[0].split(". ", 1)[1])
        review, _steps = await get_brand_voice_service().review(draft[:400])
    return EditorPage(headlines=headlines, draft=draft, voice_review=review)
