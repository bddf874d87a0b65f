"""Which service instances have a tracked run in flight, to catch identity swaps on shared ones.

A service shared between users (a cached or singleton instance) must not carry a user's identity:
if `setup_tracking_context` changes the identity of an instance while one of its tracked runs is
still going, the records of one user could be billed to another. The wrappers register the `self`
of the method that called them; `setup_tracking_context` warns when it changes such an instance.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import Counter

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_running: Counter[int] = Counter()


def calling_service(depth: int) -> object | None:
    """The `self` of the frame `depth` levels above the caller, if that frame is a method."""
    try:
        frame = sys._getframe(depth + 1)
    except ValueError:
        return None
    if "self" not in frame.f_code.co_varnames:
        return None  # not a method; reading `f_locals` would copy the frame's variables for nothing
    candidate: object | None = frame.f_locals.get("self")
    if candidate is None or not hasattr(candidate, "set_tracking_context"):
        return None
    return candidate


def started(service: object) -> None:
    """Note that a tracked run on `service` has started."""
    with _lock:
        _running[id(service)] += 1


def finished(service: object) -> None:
    """Note that a tracked run on `service` has ended."""
    with _lock:
        key = id(service)
        _running[key] -= 1
        if _running[key] <= 0:
            del _running[key]


def warn_if_identity_changes(
    service: object, user_id: str | None, organization_id: str | None
) -> None:
    """Log a warning when `service` gets another identity while a tracked run on it is in flight."""
    with _lock:
        in_flight = _running.get(id(service), 0)
    if not in_flight:
        return
    current = (getattr(service, "_user_id", None), getattr(service, "_org_id", None))
    if current != (user_id, organization_id):
        logger.warning(
            "tokentrail: the identity of a %s instance changed while %d tracked run(s) on it were "
            "in flight; records may be attributed to the wrong user. Shared instances should get "
            "their identity from tracking_context(...) instead of setup_tracking_context(...).",
            type(service).__name__,
            in_flight,
        )
