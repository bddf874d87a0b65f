"""The codemod as a function: analyse the project, rewrite the files under the given paths.

`apply()` is what `tokentrail codemod` and `tokentrail check --fix` run. It reads a file only
when its analysis found something to rewrite, writes only files under the given paths, and
reports files it could not process instead of raising, so one broken file never stops the rest.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from tokentrail_codemods._callers import is_tracked
from tokentrail_codemods._names import NameResolver, Naming
from tokentrail_codemods._outcome import CallerNote, CallerSettings
from tokentrail_codemods._source import SourceError, read_source, write_atomically
from tokentrail_codemods._transform import (
    AmbientClass,
    FileRewrite,
    RewriteError,
    Settings,
    SkippedCall,
    needs_rewrite,
    rewrite_file,
    skipped_calls,
)
from tokentrail_lint.analysis import (
    ContextCapability,
    CreationKind,
    FileAnalysis,
    ProjectAnalysis,
    analyze,
)
from tokentrail_lint.config import Config, find_project_root

logger = logging.getLogger(__name__)

_PARALLEL_THRESHOLD = 32
"""Below this many files to rewrite, starting worker processes costs more than it saves."""


@dataclass(frozen=True, slots=True)
class FileError:
    """A file that could not be read, parsed, rewritten or written; it was left untouched."""

    path: Path
    message: str


@dataclass(frozen=True, slots=True)
class ChangedFile:
    """A file whose text the codemod changed (or would change)."""

    path: Path
    before: str
    after: str
    encoded: bytes = field(repr=False, default=b"")
    """`after` in the file's encoding, byte order mark included: what is written."""


@dataclass
class CodemodResult:
    """Everything one run of the codemod did or would do."""

    root: Path
    written: bool
    changed: list[ChangedFile] = field(default_factory=list)
    rewritten: Counter[str] = field(default_factory=Counter)
    """Rewritten calls by run method."""
    renamed: int = 0
    plumbed_classes: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[SkippedCall] = field(default_factory=list)
    ambient: list[AmbientClass] = field(default_factory=list)
    callers_set_up: int = 0
    """Places that create a per-request service and now set up its context."""
    pages_bound: int = 0
    """Pages that now bind the ambient context at their top."""
    caller_notes: list[CallerNote] = field(default_factory=list)
    """Places that create or use tracked services and need a person (or another PATH)."""
    errors: list[FileError] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent in `analysis`, `read`, `rewrite` and `write`."""

    @property
    def exit_code_for_check(self) -> int:
        """CONTRACT §3: 2 for any unprocessable file, else 1 when something would change."""
        if self.errors:
            return 2
        return 1 if self.changed else 0


ProgressCallback = Callable[[int, int], None]
"""Called with (files done, files to do) as rewrites finish."""


def apply(
    paths: Sequence[Path],
    *,
    write: bool,
    update_names: bool = False,
    jobs: int | None = None,
    root: Path | None = None,
    config: Config | None = None,
    progress: ProgressCallback | None = None,
    use_cache: bool = True,
    callers: bool = False,
) -> CodemodResult:
    """Rewrite the untracked agent runs in the Python files under `paths`.

    Args:
        paths: Files and directories; only files under them are written.
        write: Write the changes (atomically); `False` only reports what would change.
        update_names: Also rewrite existing `tool_name=` / `operation=` string literals that no
            longer match what the configuration gives.
        jobs: Worker processes for the rewrite (default: the number of CPUs).
        root: The project root; found from the first path when not given.
        config: The settings; read from the root's `pyproject.toml` when not given.
        progress: Told how many files are done as rewrites finish.
        use_cache: Let the analysis keep its index cache under the project root.
        callers: Also do caller plumbing: set up the context where per-request services are
            created, and bind it at the top of pages (what `tokentrail codemod` does unless
            `--no-callers`; `check --fix` never does).

    Raises:
        ConfigError: the configuration is broken.
        FileNotFoundError: a path does not exist.
    """
    started = time.perf_counter()
    selected = list(paths)
    if callers:
        # Services are created anywhere in the project: look at all of it, write only PATHs.
        root = root if root is not None else find_project_root(paths[0] if paths else Path.cwd())
        selected.append(root)
    project = analyze(
        selected, root=root, config=config, use_cache=use_cache, services_to_come=callers
    )
    result = CodemodResult(root=project.root, written=write)
    result.timings["analysis"] = time.perf_counter() - started

    given = [Path(os.path.abspath(path)) for path in paths]
    settings = rewrite_settings(project, update_names=update_names)
    if callers:
        settings = replace(settings, callers=caller_settings(project, given))

    work: list[FileAnalysis] = []
    for analysis in project.files:
        if not _is_under(analysis.path, given):
            if settings.callers is not None:
                result.caller_notes += _elsewhere(analysis, settings.callers, project.root)
            continue  # the analysis reads the whole project; only PATHs are rewritten
        if analysis.error is not None:
            result.errors.append(FileError(analysis.path, analysis.error))
        elif needs_rewrite(analysis.runs, update_names=update_names) or (
            settings.callers is not None and analysis.callers is not None
        ):
            work.append(analysis)
        else:
            result.skipped += skipped_calls(analysis.runs)

    outcomes = _run_all(work, settings, jobs, progress, result.timings)
    for outcome in outcomes:
        _collect(outcome, result)
    if write:
        _write_all(result)
        result.caller_notes = [_as_written(note, result) for note in result.caller_notes]
    result.caller_notes.sort(key=lambda note: (note.path, note.line, note.column))
    result.changed.sort(key=lambda change: change.path)
    result.errors.sort(key=lambda error: error.path)
    return result


def rewrite_settings(project: ProjectAnalysis, *, update_names: bool) -> Settings:
    """What every file's rewrite needs from the project: naming, line length, first party."""
    config = project.config
    return Settings(
        names=NameResolver(
            Naming(
                modules=project.modules,
                style=config.tool_name,
                tool_name_overrides=dict(config.tool_name_overrides),
                operation_overrides=dict(config.operation_overrides),
            ),
            project.root,
        ),
        line_length=config.line_length,
        first_party=frozenset(name.partition(".")[0] for name in project.modules.values()),
        update_names=update_names,
    )


def caller_settings(project: ProjectAnalysis, given: list[Path]) -> CallerSettings:
    """The classes that have or now receive plumbing, and the configured helper functions."""
    tracked: set[str] = set()
    for analysis in project.files:
        module = project.modules.get(analysis.path)
        if module is None or not _is_under(analysis.path, given):
            continue
        for facts in analysis.classes:
            if facts.capability is not ContextCapability.CANNOT_HOLD:
                tracked.add(f"{module}.{facts.name}")
    config = project.config
    setup_module, _, setup_function = config.setup_import.partition(":")
    identity = None
    if config.identity_function is not None:
        identity_module, _, identity_function = config.identity_function.partition(":")
        identity = (identity_module, identity_function)
    return CallerSettings(
        tracked_classes=frozenset(tracked),
        setup=(setup_module, setup_function or "setup_tracking_context"),
        identity=identity,
    )


def _elsewhere(analysis: FileAnalysis, settings: CallerSettings, root: Path) -> list[CallerNote]:
    """Per-request creations outside PATHs that still need their setup: say how to reach them."""
    if analysis.callers is None:
        return []
    notes = []
    for site in analysis.callers.creations:
        if (
            site.kind in (CreationKind.ASSIGNMENT, CreationKind.GETTER, CreationKind.INLINE)
            and not site.set_up
            and site.rewritable
            and site.scope.function_name is not None
            and is_tracked(site, settings)
            and "TT004" not in site.suppressed_codes
        ):
            try:
                shown = analysis.path.relative_to(root)
            except ValueError:
                shown = analysis.path
            message = (
                f"creates {site.class_name.rpartition('.')[2]} without its context, outside the"
                f" given paths: run `tokentrail codemod {shown}`"
            )
            notes.append(CallerNote(analysis.path, site.span.line, site.span.column, message))
    return notes


@dataclass(frozen=True, slots=True)
class _Outcome:
    rewrite: FileRewrite | None
    before: str | None
    encoded: bytes | None
    error: FileError | None
    read_seconds: float
    rewrite_seconds: float


def _rewrite_path(analysis: FileAnalysis, settings: Settings) -> _Outcome:
    started = time.perf_counter()
    try:
        source = read_source(analysis.path)
    except SourceError as error:
        return _Outcome(None, None, None, FileError(analysis.path, str(error)), 0.0, 0.0)
    read = time.perf_counter()
    try:
        rewrite = rewrite_file(
            analysis.path,
            source.text,
            source.newline,
            analysis.runs,
            analysis.classes,
            settings,
            analysis.callers,
        )
        encoded = source.encode(rewrite.text) if rewrite.text is not None else None
    except (RewriteError, SourceError) as error:
        return _Outcome(None, None, None, FileError(analysis.path, str(error)), read - started, 0.0)
    done = time.perf_counter()
    return _Outcome(rewrite, source.text, encoded, None, read - started, done - read)


def _run_all(
    work: list[FileAnalysis],
    settings: Settings,
    jobs: int | None,
    progress: ProgressCallback | None,
    timings: dict[str, float],
) -> list[_Outcome]:
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    outcomes: list[_Outcome] = []
    started = time.perf_counter()
    if workers > 1 and len(work) >= _PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_rewrite_path, analysis, settings) for analysis in work]
            for future in futures:
                outcomes.append(future.result())
                if progress is not None:
                    progress(len(outcomes), len(work))
    else:
        for analysis in work:
            outcomes.append(_rewrite_path(analysis, settings))
            if progress is not None:
                progress(len(outcomes), len(work))
    timings["read"] = sum(outcome.read_seconds for outcome in outcomes)
    timings["rewrite"] = sum(outcome.rewrite_seconds for outcome in outcomes)
    timings["rewrite_wall"] = time.perf_counter() - started
    return outcomes


def _collect(outcome: _Outcome, result: CodemodResult) -> None:
    if outcome.error is not None:
        result.errors.append(outcome.error)
        return
    rewrite = outcome.rewrite
    assert rewrite is not None  # set whenever there is no error
    assert outcome.before is not None
    result.rewritten.update(rewrite.rewritten)
    result.renamed += rewrite.renamed
    result.plumbed_classes += [(rewrite.path, name) for name in rewrite.plumbed_classes]
    result.skipped += rewrite.skipped
    result.ambient += rewrite.ambient
    result.callers_set_up += rewrite.callers_set_up
    result.pages_bound += rewrite.pages_bound
    result.caller_notes += rewrite.caller_notes
    if rewrite.text is not None and outcome.encoded is not None:
        result.changed.append(
            ChangedFile(rewrite.path, outcome.before, rewrite.text, outcome.encoded)
        )


def _write_all(result: CodemodResult) -> None:
    started = time.perf_counter()
    written: list[ChangedFile] = []
    for change in result.changed:
        try:
            write_atomically(change.path, change.encoded)
        except SourceError as error:
            result.errors.append(FileError(change.path, str(error)))
            continue
        written.append(change)
    logger.info("wrote %d files", len(written))
    result.changed = written
    result.timings["write"] = time.perf_counter() - started


def _as_written(note: CallerNote, result: CodemodResult) -> CallerNote:
    """A note about a file that was written points at the place in its new text."""
    if note.rewritten_position is None or all(
        change.path != note.path for change in result.changed
    ):
        return note
    line, column = note.rewritten_position
    return replace(note, line=line, column=column, rewritten_position=None)


def _is_under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)
