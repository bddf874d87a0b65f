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
from dataclasses import dataclass, field
from pathlib import Path

from tokentrail_codemods._names import NameResolver, Naming
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
from tokentrail_lint.analysis import FileAnalysis, ProjectAnalysis, analyze
from tokentrail_lint.config import Config

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

    Raises:
        ConfigError: the configuration is broken.
        FileNotFoundError: a path does not exist.
    """
    started = time.perf_counter()
    project = analyze(list(paths), root=root, config=config, use_cache=use_cache)
    result = CodemodResult(root=project.root, written=write)
    result.timings["analysis"] = time.perf_counter() - started

    given = [Path(os.path.abspath(path)) for path in paths]
    settings = rewrite_settings(project, update_names=update_names)

    work: list[FileAnalysis] = []
    for analysis in project.files:
        if not _is_under(analysis.path, given):
            continue  # the analysis reads the whole project; only PATHs are rewritten
        if analysis.error is not None:
            result.errors.append(FileError(analysis.path, analysis.error))
        elif needs_rewrite(analysis.runs, update_names=update_names):
            work.append(analysis)
        else:
            result.skipped += skipped_calls(analysis.runs)

    outcomes = _run_all(work, settings, jobs, progress, result.timings)
    for outcome in outcomes:
        _collect(outcome, result)
    if write:
        _write_all(result)
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
            analysis.path, source.text, source.newline, analysis.runs, analysis.classes, settings
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


def _is_under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)
