"""How pages get their services: a fresh one per run, or one cached for every session.

`functools.cache` stands in for Streamlit's `st.cache_resource`: both build the service once and
hand the same instance to every session.
"""

from __future__ import annotations

import functools

from services.scripts import ScriptService
from services.summaries import SummaryService


def get_script_service() -> ScriptService:
    return ScriptService()


@functools.cache
def get_summary_service() -> SummaryService:
    return SummaryService()


def shout(topic: str) -> str:
    return ScriptService().draft(topic).upper()
