"""Warnings about tracking problems, at most once a minute each, so a failing store cannot flood
the logs."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

_INTERVAL_SECONDS = 60.0
_lock = threading.Lock()
_last_logged: dict[str, float] = {}


def warn_limited(logger: logging.Logger, key: str, message: str, *args: Any) -> None:
    """Log `message` at WARNING unless the same `key` was logged in the last minute."""
    now = time.monotonic()
    with _lock:
        last = _last_logged.get(key)
        if last is not None and now - last < _INTERVAL_SECONDS:
            return
        _last_logged[key] = now
    logger.warning(message, *args)
