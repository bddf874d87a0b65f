"""Where pages get their services: a fresh one per request, or one cached for the process."""

from __future__ import annotations

from functools import cache

from brightwave.services.blog_post_service import BlogPostService
from brightwave.services.brand_voice_service import BrandVoiceService
from brightwave.services.campaign_service import CampaignService
from brightwave.services.headline_service import HeadlineService
from brightwave.services.newsletter_service import NewsletterService
from brightwave.services.seo_service import SeoService
from brightwave.services.social_post_service import SocialPostService
from brightwave.services.translation_service import TranslationService

VOICE_GUIDE = "Plain words, short sentences, the customer's problem first, no exclamation marks."


def get_headline_service() -> HeadlineService:
    return HeadlineService()


def get_blog_post_service() -> BlogPostService:
    return BlogPostService()


def get_social_post_service() -> SocialPostService:
    return SocialPostService()


def get_campaign_service() -> CampaignService:
    return CampaignService()


@cache
def get_seo_service() -> SeoService:
    return SeoService()


@cache
def get_newsletter_service() -> NewsletterService:
    return NewsletterService()


@cache
def get_brand_voice_service() -> BrandVoiceService:
    return BrandVoiceService(VOICE_GUIDE)


@cache
def get_translation_service() -> TranslationService:
    return TranslationService()
