"""Summary: a headline and a summary of the session's topic."""

from __future__ import annotations

from services.summaries import SummaryService

from ui import st
from ui.getters import get_summary_service

topic = st.session_value("topic")
st.write(SummaryService().headline(topic))
summaries = get_summary_service()
st.write(summaries.summarize(topic))
