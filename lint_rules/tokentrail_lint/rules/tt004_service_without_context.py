"""TT004: a tracked service created without its context, or given one while shared.

A service class with `set_tracking_context` bills its runs to whoever its fields name. An
instance made for one request (`service = ScriptService()`, a plain getter, a dependency
provider, `ScriptService().generate(...)`) should have its context set right after it is made,
with `setup_tracking_context(service)`, unless the code around it visibly sets the ambient
context (`with tracking_context(...)`, `bind_tracking_context(...)`, `@tracking_job`).

An instance shared between users (a `functools.cache` / `lru_cache` / `st.cache_resource`
getter's result, a module-level singleton, something stored on `app.state`) must never be given
an identity: one session's setup would overwrite another's and bill A's tokens to B. Such
instances take their identity from the ambient context, set where each request or session
begins.

To stay quiet when unsure, TT004 reports only what it can see: a per-request instance in a
function, and a setup call on an instance it knows is shared. `tokentrail codemod` adds the
missing setup calls.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import CreationKind, FileAnalysis
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule, describe_scope

_PER_REQUEST = frozenset({CreationKind.ASSIGNMENT, CreationKind.GETTER, CreationKind.INLINE})
_SHARED = frozenset({CreationKind.CACHED_GETTER, CreationKind.SHARED})


def _find(file: FileAnalysis) -> Iterator[Problem]:
    callers = file.callers
    if callers is None:
        return
    for site in callers.creations:
        if not site.has_plumbing:
            continue
        name = site.class_name.rpartition(".")[2]
        subject = f"{describe_scope(site.scope)}:{name}"
        if site.kind in _SHARED and site.set_up:
            yield Problem(
                span=site.span,
                message=(
                    f"`{name}` is shared between users, yet its tracking context is set: remove "
                    "the setup and bind the context where each request begins"
                ),
                subject=f"{subject}:shared",
                suppressed_codes=site.suppressed_codes,
            )
        elif (
            site.kind in _PER_REQUEST
            and not site.set_up
            and not site.ambient
            and site.scope.function_name is not None
        ):
            yield Problem(
                span=site.span,
                message=(
                    f"`{name}` is created without its tracking context: call "
                    "`setup_tracking_context(...)` on it (`tokentrail codemod` adds the call)"
                ),
                subject=subject,
                suppressed_codes=site.suppressed_codes,
            )
    for use in callers.uses:
        if use.has_plumbing and use.shared and use.set_up:
            shown = f"`{use.getter}()`" if use.getter else "this module-level instance"
            yield Problem(
                span=use.span,
                message=(
                    f"{shown} is shared between users, yet its tracking context is set here: "
                    "bind the context where each request begins instead"
                ),
                subject=f"{describe_scope(use.scope)}:{use.getter or use.class_name}:shared",
                suppressed_codes=use.suppressed_codes,
            )


_SERVICE = (
    "from functools import cache\n"
    "\n"
    "from pydantic_ai import Agent\n"
    "from tokentrail import run_agent_sync_with_tracking, setup_tracking_context\n"
    "\n"
    "\n"
    "class Writer:\n"
    "    _user_id: str | None = None\n"
    "\n"
    "    def write(self, topic: str) -> str:\n"
    "        agent = Agent('test')\n"
    "        return run_agent_sync_with_tracking(agent, topic, user_id=self._user_id).output\n"
    "\n"
    "    def set_tracking_context(self, tracker, user_id, org_id) -> None:\n"
    "        self._user_id = user_id\n"
    "\n"
    "\n"
)

RULE = Rule(
    code="TT004",
    name="service-without-context",
    summary="tracked service created without context, or context set on a shared instance",
    default_severity=Severity.ERROR,
    rationale=(
        "A per-request service without its context bills nobody; a shared one given a user's "
        "context bills every user's runs to whoever set it last."
    ),
    find=_find,
    valid=(
        _SERVICE + "def get_writer() -> Writer:\n"
        "    writer = Writer()\n"
        "    setup_tracking_context(writer)\n"
        "    return writer\n",
        _SERVICE + "@cache\ndef get_shared_writer() -> Writer:\n    return Writer()\n",
    ),
    invalid=(
        _SERVICE + "def get_writer() -> Writer:\n    return Writer()\n",
        _SERVICE + "@cache\n"
        "def get_shared_writer() -> Writer:\n"
        "    writer = Writer()\n"
        "    setup_tracking_context(writer, user_id='u1')\n"
        "    return writer\n",
    ),
)
