"""Process-wide settings: the default tracker, the identity provider and custom prices."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from tokentrail._context import IdentityProvider, default_tracker, set_process_defaults
from tokentrail._prices import PriceTable
from tokentrail._prices_config import price_table_from
from tokentrail._pricing import set_custom_prices
from tokentrail._tracker import UsageTracker

_lock = threading.Lock()


def configure(
    *,
    tracker: UsageTracker | None = None,
    store: Any = None,
    identity_provider: IdentityProvider | None = None,
    prices: PriceTable | Mapping[str, Any] | None = None,
) -> UsageTracker | None:
    """Set what tracked runs use when neither their keywords nor `tracking_context` say.

    Args:
        tracker: the process default tracker.
        store: a store URL or object; creates the default tracker for it (checked now, so a typo
            fails here rather than at the first run).
        identity_provider: called at run time for `(user_id, organization_id)`; its exceptions
            are logged and swallowed.
        prices: custom prices and model aliases, a `PriceTable` or a mapping shaped like the
            `[tool.tokentrail.prices]` table (see docs/prices.md). They replace the file's
            prices for this process and win over genai-prices and over the cost pydantic-ai
            put on a response (`cost_source="override"`). `{}` switches custom prices off.

    Returns:
        The process default tracker after the change, if one is set.

    Raises:
        PriceConfigError: `prices` is invalid; the message names the key, such as
            `prices.models[0].input`. Nothing is changed then.
    """
    price_table = None if prices is None else price_table_from(prices)
    if tracker is not None and store is not None:
        raise ValueError("pass either tracker= or store= to configure(), not both")
    if store is not None:
        tracker = UsageTracker(store)
    if price_table is not None:
        set_custom_prices(price_table)
    set_process_defaults(tracker=tracker, identity_provider=identity_provider)
    return default_tracker()


def process_tracker() -> UsageTracker:
    """The tracker for runs that resolved none: the configured default, created on first use."""
    tracker = default_tracker()
    if tracker is not None:
        return tracker
    with _lock:
        tracker = default_tracker()
        if tracker is None:
            tracker = UsageTracker()
            set_process_defaults(tracker=tracker, identity_provider=None)
    return tracker
