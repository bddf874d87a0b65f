"""Who is signed in: a stand-in for the app's real authentication.

Every page runs inside `signed_in(session)`, which is where tokentrail learns who the agent runs
are for: services are shared between requests, so they take their identity from the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from tokentrail import tracking_context


@dataclass(frozen=True)
class Organization:
    id: str
    name: str


@dataclass(frozen=True)
class User:
    id: str
    email: str


@dataclass(frozen=True)
class Session:
    """A signed-in user acting for one of their organizations."""

    user: User
    organization: Organization


_current: ContextVar[Session | None] = ContextVar("brightwave_session", default=None)


def current_session() -> Session:
    """The session of the request being served."""
    session = _current.get()
    if session is None:
        raise LookupError("no one is signed in: call pages inside signed_in(session)")
    return session


@contextmanager
def signed_in(session: Session) -> Iterator[Session]:
    """Serve one request as `session`: the app and tokentrail both see who it is for."""
    token = _current.set(session)
    try:
        with tracking_context(user_id=session.user.id, organization_id=session.organization.id):
            yield session
    finally:
        _current.reset(token)
