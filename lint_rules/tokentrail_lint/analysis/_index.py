"""The project index: every project file, its module name, and which files can hold agent runs.

Reading a file's bytes costs microseconds; parsing it costs a millisecond or more. So the index
reads everything and parses only what might matter, decided on text:

1. A *seed* mentions `pydantic_ai`, tokentrail's wrappers, or a configured agent type, factory or
   wrapper by name.
2. A *candidate* is a seed, or a file whose import statements name the last component of a
   candidate module (every form of import does: `import a.b`, `from a import b`,
   `from .b import c`), repeated until nothing new joins. Anything else cannot import an agent,
   even indirectly.
3. A file that mentions `tracking_context` is a candidate too (not a seed): its summary says
   which of its functions open the ambient context, for the caller plumbing.
4. A candidate's summary (imports, bindings, classes) comes from the cache or from parsing it.

A file is *relevant*, and is analysed in depth, when it is a seed or a candidate that imports a
candidate module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tokentrail_lint.analysis._cache import SummaryCache, content_key
from tokentrail_lint.analysis._deep import with_deep_recursion
from tokentrail_lint.analysis._modules import is_package, module_names
from tokentrail_lint.analysis._source import ParsedSource, SourceError, decode, parse
from tokentrail_lint.analysis._summary import ModuleSummary, failed_summary, summarize
from tokentrail_lint.config import Config

logger = logging.getLogger(__name__)

_SEED_WORDS: Final = (b"pydantic_ai", b"_with_tracking")
_CONTEXT_WORD: Final = b"tracking_context"
_IMPORT_STATEMENT: Final = re.compile(
    rb"\bfrom[ \t]+[\w.]+[ \t]+import[ \t]*\([^)]*\)|\b(?:from|import)\b[^\n]*"
)
_WORD: Final = re.compile(rb"\w+")


@dataclass(slots=True)
class ProjectFile:
    path: Path
    module: str
    data: bytes | None
    """`None` when the file could not be read (`read_error` says why)."""
    read_error: str | None = None
    seed: bool = False
    candidate: bool = False
    imported_words: frozenset[bytes] | None = None


class ProjectIndex:
    """Project files by path and module name, with summaries made on demand."""

    def __init__(self, root: Path, config: Config, files: Iterable[Path], *, use_cache: bool):
        self.root = root
        self.modules, self._by_name = module_names(files, root)
        self._files = {path: _read(path, module) for path, module in self.modules.items()}
        self._cache = SummaryCache(root, enabled=use_cache)
        self._summaries: dict[str, ModuleSummary | None] = {}
        self._parsed: dict[Path, ParsedSource | SourceError] = {}
        self._names_by_path: dict[Path, set[str]] | None = None
        self._focus: Path | None = None
        self._mark_candidates(_seed_words(config))

    def _mark_candidates(self, seed_words: list[bytes]) -> None:
        frontier: list[ProjectFile] = []
        pending: list[ProjectFile] = []
        for project_file in self._files.values():
            data = project_file.data
            if data is not None and any(word in data for word in seed_words):
                project_file.seed = project_file.candidate = True
                frontier.append(project_file)
            elif data is not None:
                pending.append(project_file)
        while frontier and pending:
            leaves = {item.module.rpartition(".")[2].encode() for item in frontier}
            frontier = [item for item in pending if not leaves.isdisjoint(_imported_words(item))]
            for item in frontier:
                item.candidate = True
            pending = [item for item in pending if not item.candidate]
        for item in pending:
            # A sign-in helper that opens `tracking_context(...)`: its summary tells the caller
            # plumbing that code inside `with signed_in(...)` has its context set.
            if not item.candidate and _CONTEXT_WORD in (item.data or b""):
                item.candidate = True
        logger.debug(
            "index: %d files, %d seeds, %d candidates",
            len(self._files),
            sum(item.seed for item in self._files.values()),
            sum(item.candidate for item in self._files.values()),
        )

    def canonical(self, module: str) -> str | None:
        """The canonical name of a project module, or `None` when it is not in the project."""
        path = self._by_name.get(module)
        return None if path is None else self.modules[path]

    def names_of(self, path: Path) -> set[str]:
        """Every name (canonical and alias) the file at `path` is imported by."""
        if self._names_by_path is None:
            self._names_by_path = {}
            for name, named in self._by_name.items():
                self._names_by_path.setdefault(named, set()).add(name)
        return self._names_by_path.get(path, set())

    def any_file_mentions(self, word: bytes) -> bool:
        """Whether any project file's text holds `word` (a byte scan, no parsing)."""
        return any(word in (item.data or b"") for item in self._files.values())

    def summary(self, module: str) -> ModuleSummary | None:
        """A candidate module's summary; `None` for files that cannot hold agents."""
        if module in self._summaries:
            return self._summaries[module]
        path = self._by_name.get(module)
        project_file = None if path is None else self._files[path]
        result: ModuleSummary | None = None
        if project_file is not None and project_file.candidate and project_file.data is not None:
            key = content_key(project_file.module, project_file.data)
            result = self._cache.get(key)
            if result is None:
                result = self._summarize(project_file)
                self._cache.put(key, result)
        self._summaries[module] = result
        if project_file is not None:
            self._summaries[project_file.module] = result
        return result

    def _summarize(self, project_file: ProjectFile) -> ModuleSummary:
        parsed = self.parsed(project_file.path)
        if isinstance(parsed, SourceError):
            return failed_summary(str(parsed))

        def summary() -> ModuleSummary:
            return summarize(parsed.tree, project_file.module, is_package(project_file.path))

        try:
            return summary()
        except RecursionError:
            pass
        try:
            return with_deep_recursion(summary)
        except RecursionError:
            return failed_summary("nested too deeply to analyse")

    def file(self, path: Path) -> ProjectFile:
        return self._files[path]

    def parsed(self, path: Path) -> ParsedSource | SourceError:
        """The file's parsed source, or the error that stops it.

        Only the file being analysed in depth (`focus`) is kept: holding every tree of a large
        project at once costs more in memory and garbage collection than parsing does.
        """
        cached = self._parsed.get(path)
        if cached is None:
            project_file = self._files[path]
            try:
                if project_file.data is None:
                    raise SourceError(project_file.read_error or "cannot be read")
                cached = parse(decode(project_file.data))
            except SourceError as error:
                cached = error
            if path == self._focus:
                self._parsed[path] = cached
        return cached

    def focus(self, path: Path | None) -> None:
        """Keep `path`'s tree between its summary and its analysis; forget the previous one."""
        self._parsed.clear()
        self._focus = path

    def is_relevant(self, path: Path) -> bool:
        """Whether the file may hold an agent run and must be analysed in depth."""
        project_file = self._files[path]
        if project_file.seed:
            return True
        if not project_file.candidate:
            return False
        summary = self.summary(project_file.module)
        if summary is None:
            return False
        if summary["error"] is not None:
            return True  # analysed in depth so that the error is reported
        for imported in summary["imports"]:
            target = self._by_name.get(imported)
            if target is not None and self._files[target].candidate and target != path:
                return True
        return False

    def save(self) -> None:
        self._cache.save(len(self._files))


def _imported_words(project_file: ProjectFile) -> frozenset[bytes]:
    """The names in a file's import statements (`from a.b import (c, d)` gives a, b, c, d).

    Every way to reach another module's names goes through an import that names that module
    (or, for `from package import module`, its last component), so these words decide whether
    a file can import an agent without parsing it. Computed once per file and run.
    """
    if project_file.imported_words is None:
        statements = b" ".join(_IMPORT_STATEMENT.findall(project_file.data or b""))
        project_file.imported_words = frozenset(_WORD.findall(statements))
    return project_file.imported_words


def _seed_words(config: Config) -> list[bytes]:
    names = {*config.agent_types, *config.agent_factories, *config.wrappers}
    return [*_SEED_WORDS, *(name.rpartition(".")[2].encode() for name in sorted(names))]


def _read(path: Path, module: str) -> ProjectFile:
    try:
        return ProjectFile(path, module, path.read_bytes())
    except OSError as error:
        return ProjectFile(path, module, None, read_error=f"cannot be read: {error.strerror}")
