"""One invocation: select files, index the project, analyse the selected files in depth."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from tokentrail_lint.analysis._callers import find_callers
from tokentrail_lint.analysis._catalog import CallerCache
from tokentrail_lint.analysis._classes import PLUMBING_METHOD, class_facts
from tokentrail_lint.analysis._index import ProjectIndex
from tokentrail_lint.analysis._modules import is_package
from tokentrail_lint.analysis._resolve import Resolver
from tokentrail_lint.analysis._runs import find_runs
from tokentrail_lint.analysis._source import SourceError, decode
from tokentrail_lint.analysis.model import ContextCapability, FileAnalysis, Span
from tokentrail_lint.config import Config
from tokentrail_lint.files import select_files

logger = logging.getLogger(__name__)


def analyze_project(
    paths: Sequence[Path],
    *,
    root: Path,
    config: Config,
    use_cache: bool,
    services_to_come: bool = False,
) -> tuple[list[FileAnalysis], dict[Path, str]]:
    """Analyse the selected files under `paths`; see `tokentrail_lint.analysis.analyze`."""
    # Parsing makes millions of short-lived objects without reference cycles; the cyclic
    # garbage collector would walk them over and over (it nearly doubled the time on the
    # standard library). Reference counting frees them all the same.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze_project(
            paths,
            root=root,
            config=config,
            use_cache=use_cache,
            services_to_come=services_to_come,
        )
    finally:
        if collecting:
            gc.enable()


def _analyze_project(
    paths: Sequence[Path],
    *,
    root: Path,
    config: Config,
    use_cache: bool,
    services_to_come: bool,
) -> tuple[list[FileAnalysis], dict[Path, str]]:
    started = time.perf_counter()
    targets = select_files(paths, root, config)
    project_files = select_files([root], root, config) if root.is_dir() else []
    index = ProjectIndex(root, config, {*project_files, *targets}, use_cache=use_cache)
    resolver = Resolver(index, config)
    callers = CallerCache()
    # Before any class has `set_tracking_context`, no place can create a tracked service.
    plumbed = index.any_file_mentions(PLUMBING_METHOD.encode())
    results = []
    for path in targets:
        index.focus(path)
        with_callers = plumbed and not services_to_come
        results.append(_analyze_file(index, resolver, path, config, callers, with_callers))
    if services_to_come:
        _find_callers_again(index, resolver, config, results)
    index.focus(None)
    index.save()
    logger.debug(
        "analysed %d of %d files in %.1f ms",
        len(targets),
        len(index.modules),
        (time.perf_counter() - started) * 1000,
    )
    return results, dict(index.modules)


def _analyze_file(
    index: ProjectIndex,
    resolver: Resolver,
    path: Path,
    config: Config,
    cache: CallerCache,
    with_callers: bool,
) -> FileAnalysis:
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
        callers = None
        if with_callers:
            setup_names = _setup_names(config)
            callers = find_callers(
                module, is_package(path), parsed, resolver, setup_names, path, cache
            )
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
        path,
        runs=findings.runs,
        entry_points=findings.entry_points,
        classes=classes,
        callers=callers,
    )


def _find_callers_again(
    index: ProjectIndex, resolver: Resolver, config: Config, results: list[FileAnalysis]
) -> None:
    """Caller facts once every class that receives plumbing in this run is known.

    The codemod needs them for classes that get `set_tracking_context` only now; a page may be
    analysed before the service it creates, so this second pass re-reads the few files that
    can create services (the checker only needs classes that already have the method).
    """
    to_come = set()
    for analysis in results:
        module = index.modules.get(analysis.path)
        for facts in analysis.classes:
            if module is not None and facts.capability is not ContextCapability.CANNOT_HOLD:
                to_come.add(f"{module}.{facts.name}")
    cache = CallerCache(to_come=frozenset(to_come))
    setup_names = _setup_names(config)
    for analysis in results:
        if analysis.error is not None or not index.is_relevant(analysis.path):
            continue
        index.focus(analysis.path)
        parsed = index.parsed(analysis.path)
        if isinstance(parsed, SourceError):
            continue
        module = index.file(analysis.path).module
        try:
            analysis.callers = find_callers(
                module,
                is_package(analysis.path),
                parsed,
                resolver,
                setup_names,
                analysis.path,
                cache,
            )
        except RecursionError:
            continue


def _setup_names(config: Config) -> frozenset[str]:
    """The project's own setup function, when `setup-import` names one (`module:function`)."""
    function = config.setup_import.partition(":")[2]
    return frozenset({function}) if function else frozenset()
