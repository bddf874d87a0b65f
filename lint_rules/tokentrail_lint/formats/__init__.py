"""Output formats for `tokentrail check`, one module each, all pure functions of the findings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from tokentrail_lint.findings import Finding
from tokentrail_lint.formats import github, json_output, sarif, text
from tokentrail_lint.formats._context import ReportContext

Renderer = Callable[[Sequence[Finding], ReportContext], str]

RENDERERS: Final[dict[str, Renderer]] = {
    "text": text.render,
    "json": json_output.render,
    "sarif": sarif.render,
    "github": github.render,
}

__all__ = ["RENDERERS", "Renderer", "ReportContext"]
