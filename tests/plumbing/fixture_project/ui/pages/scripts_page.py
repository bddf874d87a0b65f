"""Scripts: a draft for the session's topic, its summary and a loud version."""

from __future__ import annotations

from ui import st
from ui.getters import get_script_service, get_summary_service, shout

topic = st.session_value("topic")
draft = get_script_service().draft(topic)
st.write(draft)
st.write(get_summary_service().summarize(draft))
st.write(shout(topic))
