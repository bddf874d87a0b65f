"""Who is signed in: the app's own notion of the current user and organization.

A Streamlit session signs in on its script thread; a web request or a queued job acts as its
owner for its duration. `current_identity` is the identity function named in `[tool.tokentrail]`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_signed_in: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "signed_in", default=None
)


def current_identity() -> tuple[str, str] | None:
    """`(user_id, organization_id)` of whoever is signed in here, or `None`."""
    return _signed_in.get()


def sign_in(user_id: str, organization_id: str) -> None:
    """Sign a session in on the current thread, as a login form does."""
    _signed_in.set((user_id, organization_id))


@contextmanager
def acting_as(user_id: str, organization_id: str) -> Iterator[None]:
    """Act as a user for the length of a request or a job."""
    token = _signed_in.set((user_id, organization_id))
    try:
        yield
    finally:
        _signed_in.reset(token)
