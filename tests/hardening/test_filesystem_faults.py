"""Links, loops, read-only files, files that vanish mid-run, and a 5 MB module.

Like `test_hostile_files`, every command runs in a subprocess and each (case, command) pair is
one test. A file deleted "during the run" is deleted by code the test puts into that subprocess
at one precise step (after file selection, after the analysis, just before the write): the
commands themselves run unchanged.
"""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.hardening.cli_runs import changed_entries, fingerprint, run_cli
from tests.hardening.test_hostile_files import COMMANDS, PYPROJECT, SERVICE


@dataclass(frozen=True)
class Layout:
    """A project beside `service.py`, and what each command must report on it.

    Attributes:
        name: the test id.
        build: adds the entries under test to the project root.
        runs: untracked runs the commands must find (service.py's one included).
        written: entries the codemod must change (besides the analysis cache).
        error: words an `error:` line must carry when the codemod cannot write something.
    """

    name: str
    build: Callable[[Path], None]
    runs: int
    written: frozenset[str]
    error: str = ""


def _linked_file(root: Path) -> None:
    (root / "alias.py").symlink_to("service.py")


def _link_loop(root: Path) -> None:
    (root / "loop_a.py").symlink_to("loop_b.py")
    (root / "loop_b.py").symlink_to("loop_a.py")


def _dangling_link(root: Path) -> None:
    (root / "gone.py").symlink_to("never_existed.py")


def _folder_link_loop(root: Path) -> None:
    (root / "pkg").mkdir()
    (root / "pkg" / "up").symlink_to("..", target_is_directory=True)
    (root / "pkg" / "self").symlink_to(".", target_is_directory=True)


def _read_only_file(root: Path) -> None:
    (root / "frozen.py").write_text(SERVICE)
    (root / "frozen.py").chmod(0o444)


def _fifo(root: Path) -> None:
    os.mkfifo(root / "pipe.py")


def _folder_named_like_a_module(root: Path) -> None:
    (root / "package.py").mkdir()
    (root / "package.py" / "inner.py").write_text(SERVICE)


LAYOUTS = [
    Layout("linked-file", _linked_file, 1, frozenset({"service.py"})),
    Layout("link-loop", _link_loop, 1, frozenset({"service.py"})),
    Layout("dangling-link", _dangling_link, 1, frozenset({"service.py"})),
    Layout("folder-link-loop", _folder_link_loop, 1, frozenset({"service.py"})),
    Layout("fifo-named-py", _fifo, 1, frozenset({"service.py"})),
    Layout(
        "folder-named-py",
        _folder_named_like_a_module,
        2,
        frozenset({"service.py", "package.py/inner.py"}),
    ),
    Layout("read-only-file", _read_only_file, 2, frozenset({"service.py"}), "is read-only"),
]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_project_layout(tmp_path: Path, layout: Layout, command: str) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "service.py").write_text(SERVICE)
    layout.build(tmp_path)
    arguments, untracked_exit = COMMANDS[command]
    before = fingerprint(tmp_path)

    run = run_cli(tmp_path, *arguments, "--format", "json") if command == "coverage" else None
    run = run or run_cli(tmp_path, *arguments)

    assert "Traceback" not in run.output, run.output
    changed = changed_entries(before, fingerprint(tmp_path))
    if command == "codemod":
        assert changed == layout.written
        assert run.exit_code == (2 if layout.error else 0), run.output
        if layout.error:
            assert layout.error in run.stderr
        assert run_cli(tmp_path, "check", ".").exit_code == (1 if layout.error else 0)
    else:
        assert changed == set()
        assert run.exit_code == untracked_exit, run.output
    if command == "check":
        assert run.stdout.count("TT001") == layout.runs
    if command == "coverage":
        assert f'"total": {layout.runs},' in run.stdout


def test_an_explicitly_named_link_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "service.py").write_text(SERVICE)
    (tmp_path / "alias.py").symlink_to(Path("real") / "service.py")

    run = run_cli(tmp_path, "codemod", "alias.py")

    assert run.exit_code == 0, run.output
    assert (tmp_path / "alias.py").is_symlink()
    assert "run_agent_sync_with_tracking(" in (tmp_path / "real" / "service.py").read_text()
    assert stat.S_IMODE((tmp_path / "real" / "service.py").stat().st_mode) == 0o644
    assert sorted(path.name for path in (tmp_path / "real").iterdir()) == ["service.py"]


# Files deleted while a command runs. The prelude wraps one step of the real command.

_DELETE_AFTER_SELECTION = """
import os
import tokentrail_lint.files as files
_select = files.select_files
def select_then_delete(*args, **kwargs):
    selected = _select(*args, **kwargs)
    if os.path.exists("victim.py"):
        os.unlink("victim.py")
    return selected
files.select_files = select_then_delete
"""

_DELETE_BEFORE_REWRITE = """
import os
import tokentrail_codemods._apply as steps
_read = steps.read_source
def delete_then_read(path):
    if path.name == "victim.py":
        os.unlink(path)
    return _read(path)
steps.read_source = delete_then_read
"""

_DELETE_BEFORE_WRITE = """
import os
import tokentrail_codemods._apply as steps
_write = steps.write_atomically
def delete_then_write(path, data):
    if path.name == "victim.py":
        os.unlink(path)
    return _write(path, data)
steps.write_atomically = delete_then_write
"""

DELETIONS = {
    "after-selection": (_DELETE_AFTER_SELECTION, list(COMMANDS)),
    "before-rewrite": (_DELETE_BEFORE_REWRITE, ["codemod-check", "codemod-diff", "codemod"]),
    "before-write": (_DELETE_BEFORE_WRITE, ["codemod"]),
}
DELETION_CASES = [
    (moment, command) for moment, (_, commands) in DELETIONS.items() for command in commands
]


@pytest.mark.parametrize(
    ("moment", "command"), DELETION_CASES, ids=[f"{m}-{c}" for m, c in DELETION_CASES]
)
def test_a_file_deleted_during_the_run(tmp_path: Path, moment: str, command: str) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "service.py").write_text(SERVICE)
    (tmp_path / "victim.py").write_text(SERVICE)
    prelude, _ = DELETIONS[moment]
    before = fingerprint(tmp_path)

    run = run_cli(tmp_path, *COMMANDS[command][0], prelude=prelude)

    assert "Traceback" not in run.output, run.output
    assert run.exit_code == 2, run.output
    assert [line for line in run.stderr.splitlines() if line.startswith("error:")], run.stderr
    assert "victim.py" in run.stderr, run.stderr
    assert not (tmp_path / "victim.py").exists(), "a deleted file must not be written back"
    expected = {"victim.py"} | ({"service.py"} if command == "codemod" else set())
    assert changed_entries(before, fingerprint(tmp_path)) == expected
    assert not [entry for entry in tmp_path.iterdir() if entry.suffix == ".tokentrail"]


def _large_module(target_bytes: int) -> str:
    parts = [SERVICE]
    size = len(SERVICE)
    number = 0
    while size < target_bytes:
        chunk = (
            f"\n\ndef helper_{number}(value: int) -> int:\n"
            f'    """Helper number {number}."""\n'
            f"    return value * {number} + len('padding for helper {number}')\n"
        )
        parts.append(chunk)
        size += len(chunk)
        number += 1
    parts.append("\n\ndef last(prompt: str) -> str:\n    return agent.run_sync(prompt).output\n")
    return "".join(parts)


def test_a_five_megabyte_module_is_checked_and_rewritten(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    source = _large_module(5 * 1024 * 1024)
    (tmp_path / "large.py").write_text(source)

    checked = run_cli(tmp_path, "check", ".")
    rewritten = run_cli(tmp_path, "codemod", ".")
    again = run_cli(tmp_path, "check", ".")

    assert checked.exit_code == 1, checked.output
    assert checked.stdout.count("TT001") == 2
    assert rewritten.exit_code == 0, rewritten.output
    assert again.exit_code == 0, again.output
    text = (tmp_path / "large.py").read_text()
    assert text.count("run_agent_sync_with_tracking(") == 2
    # The helpers between the two runs are untouched (the last statement holds a rewritten run).
    helpers_after = [ast.dump(node) for node in ast.parse(text).body[-200:-1]]
    assert helpers_after == [ast.dump(node) for node in ast.parse(source).body[-200:-1]]


def test_a_run_at_the_foot_of_a_500_deep_call_chain_is_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    chain = "agent.run_sync('deep')" + ".output.strip()" * 500
    (tmp_path / "chain.py").write_text(SERVICE + f"\nanswer = {chain}\n")

    run = run_cli(tmp_path, "check", "--extend-select", "TT006", "chain.py")

    assert "Traceback" not in run.output, run.output
    assert run.exit_code == 1, run.output
    # The ordinary run above the deep expression stays an untracked run (an error)...
    assert "chain.py:7:12: TT001" in run.stdout
    # ...and the deep one is reported too, resolved or not.
    assert "chain.py:9:" in run.stdout
