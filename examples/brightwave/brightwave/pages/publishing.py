"""Publishing runs synchronously (the app's job queue calls it from worker threads)."""

from __future__ import annotations

from dataclasses import dataclass

from brightwave.dependencies import get_newsletter_service, get_seo_service
from brightwave.identity import Session, signed_in


@dataclass(frozen=True)
class PublishedPage:
    meta_description: str
    newsletter_intro: str


def publish(session: Session, title: str) -> PublishedPage:
    with signed_in(session):
        description = get_seo_service().meta_description(title)
        intro = get_newsletter_service().intro([title, "Quarterly calendar template"])
    return PublishedPage(meta_description=description, newsletter_intro=intro)
