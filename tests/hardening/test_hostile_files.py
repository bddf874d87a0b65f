"""`check`, `coverage` and `codemod` against files as editors, platforms and accidents leave them.

Each case is one small project: a plain service with one untracked run beside one hostile file.
Every command runs in a subprocess, and each (case, command) pair is its own test, so the figures
in `docs/reliability.md` are test counts. What must hold every time: the exit code CONTRACT §3
gives, no traceback, the hostile file named when it cannot be processed, and no file changed
except the ones the codemod rewrote, which still parse and need no second rewrite.
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.hardening.cli_runs import changed_entries, fingerprint, run_cli

SERVICE = """\
from pydantic_ai import Agent

agent = Agent("test")


def answer(prompt: str) -> str:
    return agent.run_sync(prompt).output
"""

PYPROJECT = "[tool.tokentrail]\n"


@dataclass(frozen=True)
class Case:
    """A project holding `service.py` and a hostile `target.py`.

    Attributes:
        name: the test id.
        target: the hostile file's bytes.
        processable: whether the commands can read and rewrite the target (else exit 2).
        message: for an unprocessable target, words its line on stderr must carry.
        runs: untracked runs in the target that the codemod rewrites.
    """

    name: str
    target: bytes
    processable: bool
    message: str = ""
    runs: int = 1


def _lines(text: str, newline: str) -> bytes:
    return text.replace("\n", newline).encode()


def _nested(opening: str, closing: str, depth: int) -> bytes:
    inner = opening * depth + "agent.run_sync('deep')" + closing * depth
    return (SERVICE + f"\nnested = {inner}\n").encode()


MIXED_ENDINGS = SERVICE.replace("\n", "\r\n", 3).replace("agent = ", "\ragent = ")
TABS = SERVICE.replace("    return", "\treturn") + "\n\nclass Box:\n\tdef go(self):\n\t\treturn 1\n"
FORM_FEEDS = SERVICE.replace("\n\n\ndef", "\n\n\f\ndef") + "\f\n"
LATIN_1 = "# -*- coding: latin-1 -*-\n" + SERVICE.replace('"test")', '"test")  # café')

CASES = [
    Case("utf8-bom", codecs.BOM_UTF8 + SERVICE.encode(), processable=True),
    Case("crlf", _lines(SERVICE, "\r\n"), processable=True),
    Case("lone-cr", _lines(SERVICE, "\r"), processable=True),
    Case("mixed-line-endings", MIXED_ENDINGS.encode(), processable=True),
    Case("tabs", TABS.encode(), processable=True),
    Case("form-feeds", FORM_FEEDS.encode(), processable=True),
    Case("latin-1-with-coding-line", LATIN_1.encode("latin-1"), processable=True),
    Case("bom-and-crlf", codecs.BOM_UTF8 + _lines(SERVICE, "\r\n"), processable=True),
    Case("empty-file", b"", processable=True, runs=0),
    Case("only-a-bom", codecs.BOM_UTF8, processable=True, runs=0),
    Case("nested-lambdas-500", _nested("lambda: ", "", 500)[:-1] + b"\n", processable=True, runs=2),
    Case(
        "latin-1-without-coding-line",
        SERVICE.replace('"test")', '"test")  # café').encode("latin-1"),
        processable=False,
        message="not valid utf-8",
    ),
    Case(
        "invalid-bytes-despite-utf8-coding-line",
        b"# coding: utf-8\n" + SERVICE.encode() + b"\nname = '\xff\xfe'\n",
        processable=False,
        message="not valid utf-8",
    ),
    Case(
        "unknown-coding",
        b"# -*- coding: klingon -*-\n" + SERVICE.encode(),
        processable=False,
        message="coding",
    ),
    Case("null-byte", SERVICE.encode() + b"\nx = 1\x00\n", processable=False, message="null"),
    Case(
        "syntax-error",
        SERVICE.encode() + b"\ndef broken(:\n    pass\n",
        processable=False,
        message="syntax error",
    ),
    Case(
        "binary-garbage",
        bytes(range(256)) * 4,
        processable=False,
        message="",
    ),
    Case(
        "nested-brackets-500",
        _nested("[", "]", 500),
        processable=False,
        message="too many nested parentheses",
    ),
    Case(
        "nested-parentheses-500",
        _nested("(", ")", 500),
        processable=False,
        message="too many nested parentheses",
    ),
    Case(
        "nested-blocks-500",
        (
            SERVICE
            + "".join(f"{'    ' * level}if True:\n" for level in range(500))
            + "    " * 500
            + "agent.run_sync('deep')\n"
        ).encode(),
        processable=False,
        message="",
    ),
]

COMMANDS = {
    "check": (["check", "."], 1),
    "coverage": (["coverage", "."], 0),
    "codemod-check": (["codemod", "--check", "."], 1),
    "codemod-diff": (["codemod", "--diff", "."], 1),
    "codemod": (["codemod", "."], 0),
}
"""Each command and its exit code when every file can be processed and runs are untracked."""


def _project(tmp_path: Path, case: Case) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "service.py").write_text(SERVICE)
    (tmp_path / "target.py").write_bytes(case.target)
    return tmp_path


def _decoded(data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_file(tmp_path: Path, case: Case, command: str) -> None:
    root = _project(tmp_path, case)
    arguments, clean_exit = COMMANDS[command]
    before = fingerprint(root)

    run = run_cli(root, *arguments)

    assert "Traceback" not in run.output, run.output
    writes = command == "codemod"
    expected_changes = {"service.py"} if writes else set()
    if case.processable:
        exit_code = 0 if command == "coverage" or writes else clean_exit
        if writes and case.runs:
            expected_changes.add("target.py")
    else:
        exit_code = 2
        named = [line for line in run.stderr.splitlines() if line.startswith("error: target.py: ")]
        assert len(named) == 1, run.stderr
        assert case.message in named[0]
    assert run.exit_code == exit_code, run.output
    assert changed_entries(before, fingerprint(root)) == expected_changes
    if writes:
        _assert_rewritten_well(root, case)


def _assert_rewritten_well(root: Path, case: Case) -> None:
    """The rewritten files parse, keep their encoding, BOM and line endings, and are final."""
    original = case.target
    written = (root / "target.py").read_bytes()
    if case.processable:
        assert written.startswith(codecs.BOM_UTF8) == original.startswith(codecs.BOM_UTF8)
        text = _decoded(written)
        ast.parse(text)
        assert text.count("_with_tracking(") >= case.runs
        if b"\r\n" in original and b"\n" not in original.replace(b"\r\n", b""):
            assert b"\n" not in written.replace(b"\r\n", b""), "CRLF file gained LF lines"
        if b"\n" not in original and b"\r" in original:
            assert b"\n" not in written, "CR file gained LF lines"
    else:
        assert written == original

    before_second_run = fingerprint(root)
    second = run_cli(root, "codemod", ".")
    assert second.exit_code == (0 if case.processable else 2), second.output
    assert changed_entries(before_second_run, fingerprint(root)) == set()
    after = run_cli(root, "check", ".")
    assert after.exit_code == (0 if case.processable else 2), after.output


# Cases about the project around the files: configuration, links, permissions.


@dataclass(frozen=True)
class Setup:
    """A project built by `build` and the outcome every command must have on it."""

    name: str
    build: Callable[[Path], None]
    exit_code: int
    message: str
    may_change: frozenset[str] = field(default_factory=frozenset)


def _broken_pyproject(root: Path) -> None:
    (root / "pyproject.toml").write_text("[tool.tokentrail\nselect = [\n")


def _unknown_key(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool.tokentrail]\nselct = ["TT001"]\n')


def _wrong_type(root: Path) -> None:
    (root / "pyproject.toml").write_text("[tool.tokentrail]\nexclude = 'build'\n")


def _non_utf8_pyproject(root: Path) -> None:
    (root / "pyproject.toml").write_bytes(b"[tool.tokentrail]\n# caf\xe9\n")


CONFIG_SETUPS = [
    Setup("broken-pyproject", _broken_pyproject, 2, "pyproject.toml: is not valid TOML"),
    Setup("unknown-key", _unknown_key, 2, "unknown key 'selct' in [tool.tokentrail]"),
    Setup("wrong-type", _wrong_type, 2, "tool.tokentrail.exclude must be a list of strings"),
    Setup("non-utf8-pyproject", _non_utf8_pyproject, 2, "pyproject.toml: is not valid TOML"),
]


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("setup", CONFIG_SETUPS, ids=[setup.name for setup in CONFIG_SETUPS])
def test_broken_configuration(tmp_path: Path, setup: Setup, command: str) -> None:
    root = _project(tmp_path, CASES[0])
    setup.build(root)
    before = fingerprint(root)

    run = run_cli(root, *COMMANDS[command][0])

    assert "Traceback" not in run.output, run.output
    assert run.exit_code == setup.exit_code, run.output
    assert run.stderr.startswith("error: "), run.stderr
    assert setup.message in run.stderr
    assert changed_entries(before, fingerprint(root)) == set()
