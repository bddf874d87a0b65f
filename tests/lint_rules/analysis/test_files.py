"""File selection (CONTRACT §3): excludes, .gitignore, explicit paths, per-file ignores."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tokentrail_lint.config import Config
from tokentrail_lint.files import ignored_codes, select_files


def _tree(root: Path, *files: str) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n", encoding="utf-8")


def _relative(paths: list[Path], root: Path) -> list[str]:
    return [path.relative_to(root).as_posix() for path in paths]


def test_walks_python_files_and_skips_default_excludes(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        "app/main.py",
        "app/types.pyi",
        "app/notes.txt",
        ".venv/lib/site.py",
        "build/lib/app.py",
        "node_modules/x/y.py",
        "app/__pycache__/main.py",
        "deep/site-packages/pkg.py",
    )

    selected = select_files([tmp_path], tmp_path, Config())

    assert _relative(selected, tmp_path) == ["app/main.py", "app/types.pyi"]
    assert all(path.is_absolute() for path in selected)


def test_gitignore_is_respected_with_nesting_negation_and_anchors(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _tree(
        tmp_path,
        "keep.py",
        "generated/out.py",
        "generated/keep_me.py",
        "app/local_settings.py",
        "app/secrets/key.py",
        "app/sub/generated/inner.py",
        "top_only.py",
        "app/top_only.py",
    )
    (tmp_path / ".gitignore").write_text(
        "# comment\ngenerated/\n!generated/keep_me.py\n/top_only.py\n*_settings.py\n",
        encoding="utf-8",
    )
    (tmp_path / "app" / ".gitignore").write_text("secrets\n", encoding="utf-8")

    selected = select_files([tmp_path], tmp_path, Config())

    # A negation cannot bring back a file inside an ignored folder, as in git.
    assert _relative(selected, tmp_path) == ["app/top_only.py", "keep.py"]


def test_gitignore_can_be_turned_off(tmp_path: Path) -> None:
    _tree(tmp_path, "a.py", "ignored.py")
    (tmp_path / ".gitignore").write_text("ignored.py\n", encoding="utf-8")

    selected = select_files([tmp_path], tmp_path, Config(respect_gitignore=False))

    assert _relative(selected, tmp_path) == ["a.py", "ignored.py"]


def test_gitignore_above_the_root_applies_inside_a_repository(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("scratch_*.py\n", encoding="utf-8")
    root = tmp_path / "service"
    _tree(root, "main.py", "scratch_1.py")

    assert _relative(select_files([root], root, Config()), root) == ["main.py"]


def test_excludes_apply_to_explicit_paths(tmp_path: Path) -> None:
    _tree(tmp_path, "app/main.py", "legacy/old.py", ".venv/lib/tool.py", "ignored.py")
    (tmp_path / ".gitignore").write_text("ignored.py\n", encoding="utf-8")
    config = Config(extend_exclude=("legacy",))

    selected = select_files(
        [
            tmp_path / "app" / "main.py",
            tmp_path / "legacy" / "old.py",
            tmp_path / ".venv" / "lib" / "tool.py",
            tmp_path / "ignored.py",
            tmp_path / "legacy",
        ],
        tmp_path,
        config,
    )

    assert _relative(selected, tmp_path) == ["app/main.py"]


def test_exclude_patterns_with_slashes_and_globs(tmp_path: Path) -> None:
    _tree(tmp_path, "src/app/gen_models.py", "src/app/models.py", "tests/fixtures/case.py")
    config = Config(extend_exclude=("src/**/gen_*.py", "tests/fixtures"))

    selected = select_files([tmp_path], tmp_path, config)

    assert _relative(selected, tmp_path) == ["src/app/models.py"]


def test_exclude_replaces_the_defaults(tmp_path: Path) -> None:
    _tree(tmp_path, "build/tool.py", "vendor/lib.py")

    selected = select_files([tmp_path], tmp_path, Config(exclude=("vendor",)))

    assert _relative(selected, tmp_path) == ["build/tool.py"]


def test_include_selects_other_files_and_explicit_python_files_always_count(
    tmp_path: Path,
) -> None:
    _tree(tmp_path, "bin/tool", "app.py", "script.pyw")
    config = Config(include=("*.pyw", "bin/*"))

    assert _relative(select_files([tmp_path], tmp_path, config), tmp_path) == [
        "bin/tool",
        "script.pyw",
    ]
    assert _relative(select_files([tmp_path / "app.py"], tmp_path, config), tmp_path) == ["app.py"]


def test_explicit_non_python_file_is_skipped(tmp_path: Path) -> None:
    _tree(tmp_path, "README.md")

    assert select_files([tmp_path / "README.md"], tmp_path, Config()) == []


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.py"):
        select_files([tmp_path / "missing.py"], tmp_path, Config())


def test_files_outside_the_root_are_selected_by_name(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _tree(tmp_path, "elsewhere/tool.py")

    assert select_files([tmp_path / "elsewhere"], root, Config()) == [
        tmp_path / "elsewhere" / "tool.py"
    ]


def test_duplicates_are_selected_once_and_sorted(tmp_path: Path) -> None:
    _tree(tmp_path, "b.py", "a.py")

    selected = select_files([tmp_path / "b.py", tmp_path, tmp_path / "a.py"], tmp_path, Config())

    assert _relative(selected, tmp_path) == ["a.py", "b.py"]


def test_per_file_ignores_match_like_ruff(tmp_path: Path) -> None:
    config = Config(
        per_file_ignores={"tests/**": frozenset({"TT001"}), "conftest.py": frozenset({"TT006"})}
    )

    assert ignored_codes(tmp_path / "tests" / "unit" / "conftest.py", tmp_path, config) == {
        "TT001",
        "TT006",
    }
    assert ignored_codes(tmp_path / "app" / "main.py", tmp_path, config) == frozenset()


def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    _tree(tmp_path, "app/main.py")
    (tmp_path / "app" / "loop").symlink_to(tmp_path, target_is_directory=True)

    assert _relative(select_files([tmp_path], tmp_path, Config()), tmp_path) == ["app/main.py"]
