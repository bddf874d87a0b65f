"""Utilities for the analysis tests: fixture files carry their expectations in comments.

A line holding run calls ends with `# expect: agent-run` (one label per call, in column order,
separated by commas). Labels are a verdict (`agent-run`, `not-agent-run`, `unknown`), `super` for a
`super()` call that is part of the outer run, or `tracked <method>` for a wrapper call. Entry
points carry `# entry: <name>`, and classes `# class: <kind> <capability> [existing fields]`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tokentrail_lint.analysis import FileAnalysis, ProjectAnalysis, RunSite, analyze
from tokentrail_lint.config import Config, load_config

FIXTURES = Path(__file__).parent / "fixtures"
_MARKER = re.compile(r"#\s*(expect|entry|class):\s*(.+?)\s*$")


def markers(path: Path, kind: str) -> dict[int, str]:
    """Line number -> the text after `# <kind>:` on that line."""
    found = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _MARKER.search(line)
        if match and match.group(1) == kind:
            found[number] = match.group(2)
    return found


def label(site: RunSite) -> str:
    """How a fixture names what the analysis decided about one call."""
    if site.tracked:
        return f"tracked {site.method}"
    if site.is_super_call:
        return "super"
    return site.verdict.value


def run_labels(analysis: FileAnalysis) -> dict[int, str]:
    """Line number -> the labels of the calls starting there, in column order."""
    by_line: dict[int, list[RunSite]] = {}
    for site in analysis.runs:
        by_line.setdefault(site.span.line, []).append(site)
    return {
        line: ", ".join(label(site) for site in sorted(sites, key=lambda s: s.span.column))
        for line, sites in by_line.items()
    }


def copy_fixture(relative: str, destination: Path) -> Path:
    """Copy a fixture file or folder into `destination` (a project root) and return the copy."""
    source = FIXTURES / relative
    if source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
        return destination
    target = destination / source.name
    shutil.copyfile(source, target)
    if not (destination / "pyproject.toml").exists():
        (destination / "pyproject.toml").write_text("[tool.tokentrail]\n", encoding="utf-8")
    return target


def analyze_copy(
    relative: str, root: Path, *, config: Config | None = None, use_cache: bool = False
) -> ProjectAnalysis:
    """Copy a fixture into `root` and analyse it as a project."""
    target = copy_fixture(relative, root)
    return analyze([target], root=root, config=config or load_config(root), use_cache=use_cache)
