"""One invocation: select files, index the project, analyse the selected files in depth."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from tokentrail_lint.analysis._classes import class_facts
from tokentrail_lint.analysis._index import ProjectIndex
from tokentrail_lint.analysis._modules import is_package
from tokentrail_lint.analysis._resolve import Resolver
from tokentrail_lint.analysis._runs import find_runs
from tokentrail_lint.analysis._source import SourceError, decode
from tokentrail_lint.analysis.model import FileAnalysis, Span
from tokentrail_lint.config import Config
from tokentrail_lint.files import select_files

logger = logging.getLogger(__name__)


def analyze_project(
    paths: Sequence[Path], *, root: Path, config: Config, use_cache: bool
) -> tuple[list[FileAnalysis], dict[Path, str]]:
    """Analyse the selected files under `paths`; see `tokentrail_lint.analysis.analyze`."""
    # Parsing makes millions of short-lived objects without reference cycles; the cyclic
    # garbage collector would walk them over and over (it nearly doubled the time on the
    # standard library). Reference counting frees them all the same.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze_project(paths, root=root, config=config, use_cache=use_cache)
    finally:
        if collecting:
            gc.enable()


def _analyze_project(
    paths: Sequence[Path], *, root: Path, config: Config, use_cache: bool
) -> tuple[list[FileAnalysis], dict[Path, str]]:
    started = time.perf_counter()
    targets = select_files(paths, root, config)
    project_files = select_files([root], root, config) if root.is_dir() else []
    index = ProjectIndex(root, config, {*project_files, *targets}, use_cache=use_cache)
    resolver = Resolver(index, config)
    results = []
    for path in targets:
        index.focus(path)
        results.append(_analyze_file(index, resolver, path))
    index.focus(None)
    index.save()
    logger.debug(
        "analysed %d of %d files in %.1f ms",
        len(targets),
        len(index.modules),
        (time.perf_counter() - started) * 1000,
    )
    return results, dict(index.modules)


def _analyze_file(index: ProjectIndex, resolver: Resolver, path: Path) -> FileAnalysis:
    project_file = index.file(path)
    if project_file.data is None:
        return FileAnalysis(path, error=project_file.read_error)
    if not index.is_relevant(path):
        try:
            decode(project_file.data)
        except SourceError as error:
            return FileAnalysis(path, error=str(error))
        return FileAnalysis(path)

    parsed = index.parsed(path)
    if isinstance(parsed, SourceError):
        return FileAnalysis(path, error=str(parsed))
    module = project_file.module
    try:
        findings = find_runs(path, module, index.names_of(path), is_package(path), parsed, resolver)
    except RecursionError:
        return FileAnalysis(path, error="nested too deeply to analyse")
    classes = []
    for qualname in findings.classes_with_runs:
        node = findings.class_nodes[qualname]
        span = Span(
            node.lineno,
            parsed.column(node.lineno, node.col_offset),
            node.end_lineno or node.lineno,
            parsed.column(node.end_lineno or node.lineno, node.end_col_offset or 0),
        )
        classes.append(
            class_facts(
                resolver, f"{module}:{qualname}", path, findings.display_names[qualname], span
            )
        )
    return FileAnalysis(
        path, runs=findings.runs, entry_points=findings.entry_points, classes=classes
    )
