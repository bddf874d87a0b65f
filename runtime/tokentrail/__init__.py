"""tokentrail: meter every pydantic-ai agent run.

Wrap agent runs with the tracked wrappers, and each finished run leaves one usage record per
(provider, model) that served it, attributed to a user and an organization:

```python
from tokentrail import run_agent_with_tracking, tracking_context

with tracking_context(user_id="u-42", organization_id="acme"):
    result = await run_agent_with_tracking(agent, "Draft a tagline", tool_name="taglines")
```

The API is loaded lazily: `import tokentrail` imports neither pydantic-ai nor any store driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokentrail._configure import configure
    from tokentrail._context import (
        IdentityProvider,
        propagate_context,
        setup_tracking_context,
        tracking_context,
    )
    from tokentrail._prices import CustomPrice, ModelAlias, PriceTable
    from tokentrail._prices_config import PriceConfigError
    from tokentrail._record import UsageRecord
    from tokentrail._tracker import UsageTracker
    from tokentrail._wrappers import (
        run_agent_iter_with_tracking,
        run_agent_stream_events_with_tracking,
        run_agent_stream_sync_with_tracking,
        run_agent_stream_with_tracking,
        run_agent_sync_with_tracking,
        run_agent_with_tracking,
    )
    from tokentrail.integrations import (
        TrackingContextMiddleware,
        WSGITrackingContextMiddleware,
        bind_tracking_context,
        tracking_job,
    )
    from tokentrail.stores import FlushResult, StoreConfigurationError

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "configure": "tokentrail._configure",
    "IdentityProvider": "tokentrail._context",
    "propagate_context": "tokentrail._context",
    "setup_tracking_context": "tokentrail._context",
    "tracking_context": "tokentrail._context",
    "CustomPrice": "tokentrail._prices",
    "ModelAlias": "tokentrail._prices",
    "PriceTable": "tokentrail._prices",
    "PriceConfigError": "tokentrail._prices_config",
    "UsageRecord": "tokentrail._record",
    "UsageTracker": "tokentrail._tracker",
    "run_agent_with_tracking": "tokentrail._wrappers",
    "run_agent_sync_with_tracking": "tokentrail._wrappers",
    "run_agent_stream_with_tracking": "tokentrail._wrappers",
    "run_agent_stream_sync_with_tracking": "tokentrail._wrappers",
    "run_agent_stream_events_with_tracking": "tokentrail._wrappers",
    "run_agent_iter_with_tracking": "tokentrail._wrappers",
    "FlushResult": "tokentrail.stores",
    "bind_tracking_context": "tokentrail.integrations",
    "tracking_job": "tokentrail.integrations",
    "TrackingContextMiddleware": "tokentrail.integrations",
    "WSGITrackingContextMiddleware": "tokentrail.integrations",
    "StoreConfigurationError": "tokentrail.stores",
}

__all__ = [
    "CustomPrice",
    "FlushResult",
    "IdentityProvider",
    "ModelAlias",
    "PriceConfigError",
    "PriceTable",
    "StoreConfigurationError",
    "TrackingContextMiddleware",
    "UsageRecord",
    "UsageTracker",
    "WSGITrackingContextMiddleware",
    "__version__",
    "bind_tracking_context",
    "configure",
    "propagate_context",
    "run_agent_iter_with_tracking",
    "run_agent_stream_events_with_tracking",
    "run_agent_stream_sync_with_tracking",
    "run_agent_stream_with_tracking",
    "run_agent_sync_with_tracking",
    "run_agent_with_tracking",
    "setup_tracking_context",
    "tracking_context",
    "tracking_job",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'tokentrail' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
