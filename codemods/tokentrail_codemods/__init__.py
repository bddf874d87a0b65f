"""Rewrite untracked pydantic-ai agent runs into tokentrail's tracked wrappers.

`apply()` is the codemod as a function (what `tokentrail codemod` and `tokentrail check --fix`
run); `tokentrail_codemods.libcst_command.TrackAgentRuns` runs the same rewrite under
`python -m libcst.tool codemod`.
"""

from __future__ import annotations

from tokentrail_codemods._apply import (
    ChangedFile,
    CodemodResult,
    FileError,
    apply,
)
from tokentrail_codemods._transform import AmbientClass, SkippedCall, SkipReason

__all__ = [
    "AmbientClass",
    "ChangedFile",
    "CodemodResult",
    "FileError",
    "SkipReason",
    "SkippedCall",
    "apply",
]
