"""What the rewrite of a file reports: skipped calls, classes left on ambient context, text."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tokentrail_codemods._names import NameResolver


class SkipReason(enum.Enum):
    """Why an agent run the analysis reported was left as it is."""

    SUPPRESSED = "suppressed with `# noqa`"
    UNKNOWN = "could not be resolved to an agent"
    SHAPE = "could not be rewritten"


@dataclass(frozen=True, slots=True)
class SkippedCall:
    """A call the codemod did not rewrite, with the reason to show the user."""

    path: Path
    line: int
    column: int
    reason: SkipReason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AmbientClass:
    """A class whose calls use the ambient context because it cannot hold fields."""

    path: Path
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallerNote:
    """A place that creates or uses a tracked service and needs a person's attention."""

    path: Path
    line: int
    column: int
    message: str
    """What is wrong and what to do, in words for the summary."""
    rewritten_position: tuple[int, int] | None = None
    """(line, column) of the same place in the rewritten file, when the rewrite moved it."""


@dataclass(frozen=True, slots=True)
class CallerSettings:
    """What caller plumbing needs from the project (`None` in `Settings` with `--no-callers`)."""

    tracked_classes: frozenset[str]
    """Dotted names of the classes that have, or in this run receive, `set_tracking_context`."""
    setup: tuple[str, str]
    """(module, function) of the setup function the plumbing calls."""
    identity: tuple[str, str] | None = None
    """(module, function) of the project's identity function, from `identity-function`."""


@dataclass(slots=True)
class FileRewrite:
    """What the rewrite of one file did; `text` is `None` when nothing changed."""

    path: Path
    text: str | None = None
    rewritten: Counter[str] = field(default_factory=Counter)
    """Rewritten calls by run method."""
    renamed: int = 0
    """Tracked calls whose `tool_name=` / `operation=` literals were updated."""
    plumbed_classes: list[str] = field(default_factory=list)
    skipped: list[SkippedCall] = field(default_factory=list)
    ambient: list[AmbientClass] = field(default_factory=list)
    callers_set_up: int = 0
    """Places that create a per-request service and now set up its context."""
    pages_bound: int = 0
    """Pages that now bind the ambient context at their top."""
    caller_notes: list[CallerNote] = field(default_factory=list)


class RewriteError(Exception):
    """The rewrite of a file failed as a whole; the file is left untouched."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What a rewrite depends on besides the file itself."""

    names: NameResolver
    line_length: int
    first_party: frozenset[str]
    update_names: bool = False
    callers: CallerSettings | None = None
