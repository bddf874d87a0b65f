"""The shared static analysis of agent runs: one model of the project, one set of rules.

`analyze()` finds every call of an agent's run methods under the given paths and decides, by
binding rather than spelling, whether each is an agent run, not one, or unknown; whether it is
already tracked; and what the codemod needs to know about the enclosing class. The codemod, the
checker, coverage and the Fixit rule all read its answer, so they never disagree.

Files are read with the standard library's `ast` (libcst is for rewriting only); a project index
of imports and exports, cached on disk, lets files that cannot hold an agent run skip parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tokentrail_lint.analysis._project import analyze_project
from tokentrail_lint.analysis.model import (
    RUN_METHODS,
    WRAPPER_FOR_METHOD,
    CallerFacts,
    ClassFacts,
    ContextCapability,
    CreationKind,
    EntryPointSite,
    FileAnalysis,
    RunSite,
    Scope,
    ServiceCreation,
    ServiceUse,
    Span,
    Verdict,
)
from tokentrail_lint.config import Config, find_project_root, load_config

__all__ = [
    "RUN_METHODS",
    "WRAPPER_FOR_METHOD",
    "CallerFacts",
    "ClassFacts",
    "ContextCapability",
    "CreationKind",
    "EntryPointSite",
    "FileAnalysis",
    "ProjectAnalysis",
    "RunSite",
    "Scope",
    "ServiceCreation",
    "ServiceUse",
    "Span",
    "Verdict",
    "analyze",
]


@dataclass
class ProjectAnalysis:
    """The answer for one invocation.

    Attributes:
        root: The project root (CONTRACT §3), absolute.
        config: The settings used.
        files: One entry per selected file under the given paths, sorted by path. Files that
            cannot hold an agent run (the import prefilter) have empty lists.
        modules: Every project file (not only those under the paths) -> its dotted module name,
            relative to the root with a `src/` layout folder left out; what `tool_name=`
            defaults are made from.
    """

    root: Path
    config: Config
    files: list[FileAnalysis]
    modules: dict[Path, str]


def analyze(
    paths: Sequence[Path],
    *,
    root: Path | None = None,
    config: Config | None = None,
    use_cache: bool = True,
    services_to_come: bool = False,
) -> ProjectAnalysis:
    """Analyse the Python files under `paths` against the whole project.

    Every call of a run method in a file that can hold agent runs is reported as a `RunSite`,
    whatever the verdict, except calls inside a configured wrapper's body (the wrapper is the
    tracking) and inside tokentrail's own package. Calls of tokentrail's wrappers and of
    configured wrappers are reported as tracked runs.

    A file that cannot be read or decoded gets `FileAnalysis.error`. Syntax errors are found in
    the files that are parsed: those that mention `pydantic_ai`, tokentrail's wrappers or a
    configured name, or import a module that does; other files are never parsed, which is what
    keeps a large codebase with few agents fast.

    Args:
        paths: Files and directories to report on (selected as CONTRACT §3 says).
        root: The project root; found from the first path when not given.
        config: The settings; read from the root's `pyproject.toml` when not given.
        use_cache: Read and write the index cache in `<root>/.tokentrail/cache/`.
        services_to_come: Also report where classes that receive `set_tracking_context` in
            this codemod run are created (`FileAnalysis.callers`), not only classes that have
            it already; costs a second look at the files that can create services.

    Raises:
        ConfigError: the configuration is broken (only when `config` is not given).
        FileNotFoundError: a path does not exist.
    """
    if root is None:
        root = find_project_root(paths[0] if paths else Path.cwd())
    root = root.absolute()
    if config is None:
        config = load_config(root)
    files, modules = analyze_project(
        paths, root=root, config=config, use_cache=use_cache, services_to_come=services_to_come
    )
    return ProjectAnalysis(root=root, config=config, files=files, modules=modules)
