"""Dotted module names for the files of a project.

A file has the name its imports use. The canonical name is the path from the root (`src/` layout
folders left out), which is what `tool_name=` defaults are made from; when the nearest folder
without an `__init__.py` is deeper than the root (a folder that is put on `sys.path` by its own
tooling), the name counted from there is kept as an alias so imports written that way resolve too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def module_names(files: Iterable[Path], root: Path) -> tuple[dict[Path, str], dict[str, Path]]:
    """Return each file's canonical module name, and every name (canonical or alias) -> file."""
    pairs = sorted((str(path), path) for path in files)
    texts = [text for text, _ in pairs]
    paths = [path for _, path in pairs]
    present = set(texts)
    root_text = str(root)
    source_folder = os.path.join(root_text, "src")
    drop_src = os.path.isdir(source_folder) and not _has_init(source_folder, present)
    canonical: dict[Path, str] = {}
    by_name: dict[str, Path] = {}
    for path, text in zip(paths, texts, strict=True):
        walked = _package_walk_name(text, present)
        if text.startswith(root_text + os.sep):
            parts = os.path.splitext(text[len(root_text) + 1 :])[0].split(os.sep)
        else:
            parts = walked.split(".")
        if drop_src and len(parts) > 1 and parts[0] == "src":
            parts = parts[1:]
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        name = ".".join(parts)
        canonical[path] = name
        by_name.setdefault(name, path)
        by_name.setdefault(walked, path)
    return canonical, by_name


def is_package(path: Path) -> bool:
    """Whether `path` is a package's `__init__` module."""
    return path.stem == "__init__"


def _has_init(directory: str, present: set[str]) -> bool:
    return (
        os.path.join(directory, "__init__.py") in present
        or os.path.join(directory, "__init__.pyi") in present
    )


def _package_walk_name(path: str, present: set[str]) -> str:
    """The name counted from the nearest folder above that is not a package."""
    directory, file_name = os.path.split(path)
    stem = os.path.splitext(file_name)[0]
    parts = [] if stem == "__init__" else [stem]
    while _has_init(directory, present):
        directory, name = os.path.split(directory)
        parts.append(name)
    return ".".join(reversed(parts)) or os.path.basename(directory)
