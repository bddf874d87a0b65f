"""A stand-in for the few Streamlit names the pages use (Streamlit is not installed here).

Streamlit runs each session's script on that session's own thread and finds the session's state
from the thread, as `start_session` and `session_value` do here. (`st.cache_resource` is stood in
for by `functools.cache`, in `ui/getters.py`.)
"""

from __future__ import annotations

import threading


class _Session(threading.local):
    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.output: list[str] = []


_session = _Session()


def start_session(state: dict[str, str]) -> None:
    """Attach a session's state to the current thread, as Streamlit does before a script run."""
    _session.state = dict(state)
    _session.output = []


def session_value(key: str) -> str:
    """A value from the current session's state."""
    return _session.state[key]


def write(text: str) -> None:
    """Show `text` on the page."""
    _session.output.append(text)


def written() -> list[str]:
    """What the current session's script has shown so far."""
    return list(_session.output)
