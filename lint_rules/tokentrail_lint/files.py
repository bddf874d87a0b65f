"""Which files a command looks at (CONTRACT §3 file selection).

Excludes (ruff's defaults, `exclude`, `extend-exclude`) and `.gitignore` apply to directories
walked and to files named explicitly alike, because pre-commit passes file names one by one and an
excluded file must stay excluded then too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tokentrail_lint.config import Config

__all__ = ["ignored_codes", "select_files"]


def select_files(paths: Sequence[Path], root: Path, config: Config) -> list[Path]:
    """Return the Python files under `paths` that the configuration selects, sorted.

    Paths come back absolute (symlinks are not resolved). A directory is walked recursively,
    without following links to folders or files; a file named explicitly (a link too) is kept
    when it is a Python file that no exclude or `.gitignore` rule removes.

    Raises:
        FileNotFoundError: a path does not exist (a typo must not pass as "no findings").
    """
    selector = _Selector(os.path.abspath(root), config)
    selected: set[str] = set()
    for path in paths:
        absolute = os.path.abspath(path)
        if os.path.isdir(absolute):
            if not selector.excludes_ancestry(absolute, is_dir=True):
                selector.walk(absolute, selected)
        elif os.path.isfile(absolute):
            if selector.accepts_explicit_file(absolute):
                selected.add(absolute)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return [Path(path) for path in sorted(selected)]


def ignored_codes(path: Path, root: Path, config: Config) -> frozenset[str]:
    """Codes that `[tool.tokentrail.per-file-ignores]` turns off for `path`."""
    relative = _relative_posix(os.path.abspath(path), os.path.abspath(root))
    codes: set[str] = set()
    for pattern, pattern_codes in config.per_file_ignores.items():
        if _Globs([pattern]).matches_path(relative):
            codes |= pattern_codes
    return frozenset(codes)


class _Globs:
    """Globs as ruff and git read them: without a slash, a glob matches one path component."""

    def __init__(self, globs: Sequence[str]) -> None:
        self.names: set[str] = set()
        name_patterns: list[str] = []
        path_patterns: list[str] = []
        for glob in globs:
            body = glob.strip("/")
            if "/" in body:
                path_patterns.append(_glob_regex(body))
            elif any(char in body for char in "*?[\\"):
                name_patterns.append(_glob_regex(body))
            else:
                self.names.add(body)
        self.name_regex = _combined(name_patterns)
        self.path_regex = _combined(path_patterns)

    def matches_entry(self, name: str, relative: str) -> bool:
        """Match one walked entry (its parents were matched when they were walked)."""
        return (
            name in self.names
            or (self.name_regex is not None and self.name_regex.fullmatch(name) is not None)
            or (self.path_regex is not None and self.path_regex.fullmatch(relative) is not None)
        )

    def matches_path(self, relative: str) -> bool:
        """Match a path or any directory above it."""
        parts = relative.split("/")
        return any(
            self.matches_entry(part, "/".join(parts[: index + 1]))
            for index, part in enumerate(parts)
        )


def _combined(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns)) if patterns else None


def _glob_regex(glob: str) -> str:
    """Translate a glob with git's `**` rules into a regex over `/`-separated paths."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        at_segment_start = index == 0 or glob[index - 1] == "/"
        char = glob[index]
        if at_segment_start and glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if at_segment_start and glob[index:] == "**":
            out.append(".*")
            break
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (close := glob.find("]", index + 2)) != -1:
            members = glob[index + 1 : close].replace("\\", "\\\\")
            out.append("[^" + members[1:] + "]" if members[0] in "!^" else "[" + members + "]")
            index = close
        elif char == "\\" and index + 1 < len(glob):
            index += 1
            out.append(re.escape(glob[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _IgnoreRule:
    base: str
    """The directory holding the `.gitignore`, absolute, with a trailing separator."""
    regex: re.Pattern[str]
    negated: bool
    directories_only: bool

    def decides(self, path: str, is_dir: bool) -> bool:
        if self.directories_only and not is_dir:
            return False
        return (
            path.startswith(self.base) and self.regex.fullmatch(path[len(self.base) :]) is not None
        )


def _read_gitignore(directory: str) -> list[_IgnoreRule]:
    rules: list[_IgnoreRule] = []
    base = directory.rstrip(os.sep) + os.sep
    for source in (
        os.path.join(directory, ".gitignore"),
        os.path.join(directory, ".git", "info", "exclude"),
    ):
        try:
            with open(source, encoding="utf-8", errors="replace") as stream:
                text = stream.read()
        except OSError:
            continue
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            line = line[1:] if line.startswith("\\") else line
            directories_only = line.endswith("/")
            line = line.rstrip("/")
            anchored = "/" in line
            body = _glob_regex(line.lstrip("/"))
            regex = re.compile(body if anchored else "(?:.*/)?" + body)
            rules.append(_IgnoreRule(base, regex, negated, directories_only))
    return rules


class _Selector:
    """Walks directories with plain strings: `pathlib` costs too much per file on a hook path."""

    def __init__(self, root: str, config: Config) -> None:
        self._root = root
        self._gitignore = config.respect_gitignore
        self._include = _Globs(config.include)
        self._exclude = _Globs([*config.exclude, *config.extend_exclude])
        self._rules_by_directory: dict[str, list[_IgnoreRule]] = {}

    def walk(self, directory: str, selected: set[str]) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        rules = self._rules(directory)
        for entry in entries:
            is_dir = entry.is_dir(follow_symlinks=False)  # a linked folder may loop
            if self._excluded(entry.path, entry.name, is_dir, rules):
                continue
            if is_dir:
                self.walk(entry.path, selected)
            elif (
                self._included(entry.path, entry.name)
                # A linked file is its target's second name: taking it would count and
                # rewrite the target twice (named explicitly, a link is taken).
                and entry.is_file(follow_symlinks=False)
            ):
                selected.add(entry.path)

    def accepts_explicit_file(self, path: str) -> bool:
        if self.excludes_ancestry(path, is_dir=False):
            return False
        return path.endswith((".py", ".pyi")) or self._included(path, os.path.basename(path))

    def excludes_ancestry(self, path: str, *, is_dir: bool) -> bool:
        """Whether `path` or a directory between the root and it is excluded or ignored."""
        chain = [path]
        while True:
            parent = os.path.dirname(chain[-1])
            if chain[-1] == self._root or parent == chain[-1]:
                break
            chain.append(parent)
        if chain[-1] == self._root:
            chain.pop()
        for depth, member in enumerate(reversed(chain)):
            member_is_dir = is_dir or depth < len(chain) - 1
            rules = self._rules(os.path.dirname(member))
            if self._excluded(member, os.path.basename(member), member_is_dir, rules):
                return True
        return False

    def _included(self, path: str, name: str) -> bool:
        return self._include.matches_entry(name, _relative_posix(path, self._root))

    def _excluded(self, path: str, name: str, is_dir: bool, rules: list[_IgnoreRule]) -> bool:
        if self._exclude.matches_entry(name, _relative_posix(path, self._root)):
            return True
        ignored = False
        for rule in rules:
            if rule.decides(path, is_dir):
                ignored = not rule.negated
        return ignored

    def _rules(self, directory: str) -> list[_IgnoreRule]:
        """The `.gitignore` rules in force in `directory`: its own after its parents'."""
        cached = self._rules_by_directory.get(directory)
        if cached is not None:
            return cached
        parent = os.path.dirname(directory)
        if not self._gitignore:
            rules: list[_IgnoreRule] = []
        elif directory == self._root or parent == directory:
            rules = [*self._outer_rules(), *_read_gitignore(directory)]
        elif directory.startswith(self._root + os.sep):
            rules = [*self._rules(parent), *_read_gitignore(directory)]
        else:
            rules = _read_gitignore(directory)
        self._rules_by_directory[directory] = rules
        return rules

    def _outer_rules(self) -> list[_IgnoreRule]:
        """Rules from `.gitignore` files above the root, up to the repository's top."""
        if os.path.exists(os.path.join(self._root, ".git")):
            return []
        outer: list[str] = []
        directory = self._root
        while (parent := os.path.dirname(directory)) != directory:
            directory = parent
            outer.append(directory)
            if os.path.exists(os.path.join(directory, ".git")):
                break
        else:
            return []  # not inside a repository: only the root's own files count
        return [rule for directory in reversed(outer) for rule in _read_gitignore(directory)]


def _relative_posix(path: str, root: str) -> str:
    if path.startswith(root + os.sep):
        relative = path[len(root) + 1 :]
        return relative if os.sep == "/" else relative.replace(os.sep, "/")
    return os.path.basename(path)
