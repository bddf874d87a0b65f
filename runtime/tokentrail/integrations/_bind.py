"""`bind_tracking_context`: the page-top helper for script-style apps such as Streamlit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokentrail.integrations._identity import FailureLog, ambient_for, ask, bind

if TYPE_CHECKING:
    from tokentrail._context import IdentityProvider
    from tokentrail._tracker import UsageTracker

_failures = FailureLog()


def bind_tracking_context(
    identity: IdentityProvider | None = None,
    *,
    user_id: str | None = None,
    organization_id: str | None = None,
    tracker: UsageTracker | None = None,
) -> None:
    """Bill the rest of this thread's (or asyncio task's) tracked runs to a user and organization.

    Call it at the top of a script-style page. A Streamlit session runs its script in its own
    script thread, so the binding covers that run, including runs on `st.cache_resource`
    services, and never another session's:

    ```python
    import streamlit as st
    from tokentrail import bind_tracking_context

    from myapp.auth import current_identity  # () -> (user_id, organization_id) | None

    bind_tracking_context(current_identity)
    service = get_script_service()  # cached: shared between sessions, carries no identity
    ```

    `identity` is called at once; it returns `(user_id, organization_id)` or `None`. Its
    exceptions are logged (rate-limited, without the message) and the page goes on without
    identity. Explicit `user_id` / `organization_id` win over `identity`, which is then not
    called.

    The identity is always replaced, never inherited: a call that finds no user (`identity`
    returns `None`, or nothing is given) clears the identity a previous run left on this thread,
    so a rerun after a logout is never billed to the previous user. A `tracker` left as `None`
    keeps the enclosing one.

    Where it is safe: wherever the current context belongs to one unit of work that ends with
    it, and where every unit of work that runs in that context binds first: a Streamlit script
    run (each run binds at the top), an asyncio task (each task has its own copy of the context;
    the binding ends with the task), a thread you start for one user's work, a whole
    command-line script, inside `tracking_job`, `tracking_context` or one of the middlewares
    (the binding is undone when they exit).

    Streamlit callbacks and `st.fragment` reruns do not run the page's top: bind inside them too
    when they run agents.

    Where it is not: a thread that a pool reuses for other users' work without copying the
    context (`ThreadPoolExecutor` workers, WSGI servers' worker threads, `loop.run_in_executor`):
    the binding stays on that thread and the next job that does not bind runs as this user. Use
    the middlewares, `tracking_job` or `tracking_context` there, and `propagate_context` for work
    handed to a pool. Never bind at import time in a server: every request task copies the main
    thread's context. Threads do not inherit the binding (unless Python runs with
    `thread_inherit_context`, the default on free-threaded builds: then a pool created during a
    page run keeps that run's user in its workers; create pools outside pages).
    """
    if user_id is not None or organization_id is not None:
        found: tuple[str | None, str | None] = (user_id, organization_id)
    elif identity is not None:
        found = ask(identity, (), {}, _failures)
    else:
        found = (None, None)
    bind(ambient_for(tracker, found))
