"""The mark a tracking wrapper leaves for the run it starts.

The test-suite guard (`tokentrail.pytest_plugin`) checks this mark when an agent run starts and
clears it for everything nested inside, so a child run started from a tracked parent's tool is
judged on its own. The mark costs one context-variable write per tracked run.
"""

from __future__ import annotations

from contextvars import ContextVar

tracked_run_starting: ContextVar[bool] = ContextVar(
    "tokentrail_tracked_run_starting", default=False
)
"""True between a wrapper's call into the agent and the start of that agent run."""
