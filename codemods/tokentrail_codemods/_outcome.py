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


class RewriteError(Exception):
    """The rewrite of a file failed as a whole; the file is left untouched."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What a rewrite depends on besides the file itself."""

    names: NameResolver
    line_length: int
    first_party: frozenset[str]
    update_names: bool = False
