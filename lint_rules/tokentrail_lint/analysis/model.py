"""The facts the analysis hands to its consumers: the codemod, the checker and coverage.

Everything here is plain data. Positions are 1-based lines and 1-based columns counted in
characters (not bytes), which is what ruff, SARIF and GitHub annotations expect.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

RUN_METHODS: Final[tuple[str, ...]] = (
    "run",
    "run_sync",
    "run_stream",
    "run_stream_sync",
    "run_stream_events",
    "iter",
)
"""The methods of pydantic-ai's `Agent` that run it."""

WRAPPER_FOR_METHOD: Final[dict[str, str]] = {
    "run": "run_agent_with_tracking",
    "run_sync": "run_agent_sync_with_tracking",
    "run_stream": "run_agent_stream_with_tracking",
    "run_stream_sync": "run_agent_stream_sync_with_tracking",
    "run_stream_events": "run_agent_stream_events_with_tracking",
    "iter": "run_agent_iter_with_tracking",
}
"""tokentrail's wrapper for each run method."""


class Verdict(enum.Enum):
    """What the analysis decided about a call of a run method."""

    AGENT_RUN = "agent-run"
    NOT_AGENT_RUN = "not-agent-run"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node sits in its file: 1-based lines, 1-based character columns, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Scope:
    """The code a call sits in.

    `class_name` is the innermost enclosing class (dotted for nested classes, `Outer.Inner`).
    `function_name` is the outermost function inside that class (the method), or the outermost
    module-level function; `None` at module level. Nested functions and lambdas report their
    method, which is what the codemod names the `operation` after.
    """

    class_name: str | None
    function_name: str | None
    is_method: bool = False
    is_async: bool = False


@dataclass(frozen=True, slots=True)
class RunSite:
    """One call of a run method (`x.run(...)`, `x.iter(...)`, ...), whatever it turned out to be.

    `tracked` is true for a call that already goes through a tracking wrapper (tokentrail's or
    one configured in `[tool.tokentrail] wrappers`); such calls appear with the wrapper's span and
    `method` set to the run method the wrapper stands for.
    """

    path: Path
    span: Span
    method: str
    verdict: Verdict
    tracked: bool
    scope: Scope
    receiver: str
    """The receiver's source text, e.g. `self.writer` or `agents["summary"]`."""
    reason: str = ""
    """Why the verdict was reached, for reports of unknown and skipped calls."""
    suppressed_codes: frozenset[str] = frozenset()
    """Codes named by a `# noqa:` comment on the call's lines (empty: not suppressed)."""
    is_super_call: bool = False
    """`super().run(...)` inside an `Agent` subclass's own run method: part of the outer run."""
    operation_literal: str | None = None
    """For tracked calls: the `operation=` string literal, when there is one."""


@dataclass(frozen=True, slots=True)
class EntryPointSite:
    """A pydantic-ai entry point that runs agents where no call-site wrapper reaches (TT005)."""

    path: Path
    span: Span
    name: str
    """`to_web`, `to_cli`, `to_ag_ui`, `TemporalAgent`, ... as written."""
    scope: Scope
    suppressed_codes: frozenset[str] = frozenset()


class ContextCapability(enum.Enum):
    """Whether the codemod can give a class fields for its tracking context (CONTRACT §4)."""

    CAN_HOLD = "can-hold"
    HAS_PLUMBING = "has-plumbing"
    """The class or a base already defines `set_tracking_context`."""
    CANNOT_HOLD = "cannot-hold"
    """`__slots__`, frozen/slotted dataclass, attrs, NamedTuple, Enum, Protocol, ..."""


@dataclass(frozen=True, slots=True)
class ClassFacts:
    """What the codemod and TT003 need to know about a class defined in the project."""

    path: Path
    name: str
    """Dotted within its module for nested classes."""
    span: Span
    kind: str
    """`plain`, `dataclass`, `pydantic`, `attrs`, `namedtuple`, `enum`, `protocol`, `agent`."""
    capability: ContextCapability
    reason: str = ""
    """Why a class cannot hold context, in words for the summary."""
    existing_fields: frozenset[str] = frozenset()
    """Which of `_tracker`, `_user_id`, `_org_id` the class (or a base) already has."""


@dataclass(slots=True)
class FileAnalysis:
    """Everything the analysis found in one file."""

    path: Path
    runs: list[RunSite] = field(default_factory=list)
    entry_points: list[EntryPointSite] = field(default_factory=list)
    classes: list[ClassFacts] = field(default_factory=list)
    error: str | None = None
    """Set when the file could not be read or parsed (TT000); the other lists are then empty."""
    callers: CallerFacts | None = None
    """Where the file creates or obtains tracked services; `None` when it does neither."""


class CreationKind(enum.Enum):
    """How a place that creates a tracked service keeps the instance (caller plumbing, TT004)."""

    ASSIGNMENT = "assignment"
    """`service = ScriptService(...)` inside a function: one instance per call, per request."""
    GETTER = "getter"
    """`return ScriptService(...)` in a plain function (a getter or a dependency provider)."""
    CACHED_GETTER = "cached-getter"
    """Created inside a function whose result is cached (`functools.cache`, `st.cache_resource`)."""
    SHARED = "shared"
    """A module-level instance, or one kept in a module global or an attribute (`app.state`)."""
    INLINE = "inline"
    """`ScriptService(...).generate(...)`: created and used at once."""
    OTHER = "other"
    """Anything else (an argument, `self.helper = ...`, a lambda): left to its owner."""


@dataclass(frozen=True, slots=True)
class ServiceCreation:
    """One call that creates an instance of a project class that may hold a tracking context.

    `class_name` is the class's dotted name (`app.services.ScriptService`). The class is a
    *tracked service* when `has_plumbing` is true, or when this codemod run gives it the plumbing.
    """

    path: Path
    span: Span
    """The class call itself."""
    class_name: str
    kind: CreationKind
    scope: Scope
    has_plumbing: bool
    lineage: tuple[str, ...]
    """The class and the project classes it inherits from, dotted, the class first."""
    statement: Span
    """The statement holding the call, from its first character to its last."""
    target: str | None = None
    """The local name an `ASSIGNMENT` binds."""
    set_up: bool = False
    """`setup_tracking_context(...)` or `.set_tracking_context(...)` is already called on it."""
    ambient: bool = False
    """The enclosing function or module visibly sets the ambient context (`tracking_context`,
    `bind_tracking_context`, `@tracking_job`)."""
    rewritable: bool = False
    """The statement stands on its own lines in a function body, so lines can go around it."""
    taken_names: frozenset[str] = frozenset()
    """Names already bound in the enclosing scopes, to pick a fresh local name."""
    suppressed_codes: frozenset[str] = frozenset()
    owner: str | None = None
    """Inside a method of another tracked service: that class, dotted (its context is passed on)."""
    owner_instance: str | None = None
    """The name of that method's instance parameter (`self`)."""


@dataclass(frozen=True, slots=True)
class ServiceUse:
    """A call of a getter of a tracked service, or a module-level use of a shared instance."""

    path: Path
    span: Span
    class_name: str
    scope: Scope
    has_plumbing: bool
    lineage: tuple[str, ...]
    shared: bool
    """The instance is shared between users (a cached getter's result, a module-level instance)."""
    getter: str | None = None
    """The getter's dotted name; `None` for a module-level instance used directly."""
    set_up: bool = False
    """Its context is set with `setup_tracking_context(...)` / `.set_tracking_context(...)`."""
    ambient: bool = False
    suppressed_codes: frozenset[str] = frozenset()
    defines: bool = False
    """A module-level `name = get_service()`: it defines a singleton rather than using one."""


@dataclass(slots=True)
class CallerFacts:
    """Where a file creates or obtains tracked services, for caller plumbing and TT004."""

    creations: list[ServiceCreation] = field(default_factory=list)
    uses: list[ServiceUse] = field(default_factory=list)
    binds_at_module_level: bool = False
    """Module-level code calls `bind_tracking_context(...)` (or opens a `tracking_context`)."""
