"""`tokentrail codemod` on the command line: modes, exit codes, summary, errors."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tokentrail_codemods import apply
from tokentrail_codemods.cli import build_parser, main

SERVICE = """\
from pydantic_ai import Agent

agent = Agent("test")


def answer(prompt: str) -> str:
    return agent.run_sync(prompt).output
"""

MIXED = """\
from pydantic_ai import Agent

agent = Agent("test")


class Frozen:
    __slots__ = ()

    def answer(self, prompt: str) -> str:
        return agent.run_sync(prompt).output


def quiet(prompt: str) -> str:
    return agent.run_sync(prompt).output  # noqa: TT001


def dynamic(prompt: str) -> str:
    runner = getattr(agent, "clone")()
    return str(runner.run_sync(prompt).output)
"""

WriteFile = Callable[[str, str], Path]


@pytest.fixture
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(project)
    return project


def test_default_mode_writes_and_summarises(
    in_project: Path, write_file: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file("service.py", SERVICE)

    assert main(["service.py"]) == 0

    assert "run_agent_sync_with_tracking(" in path.read_text()
    output = capsys.readouterr()
    assert output.out.splitlines()[0] == "1 file changed, 1 call rewritten (run_sync 1)."
    assert output.err == ""


def test_check_writes_nothing_and_exits_1(
    in_project: Path, write_file: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file("service.py", SERVICE)

    assert main(["--check", "service.py"]) == 1

    assert path.read_text() == SERVICE
    output = capsys.readouterr().out
    assert "would rewrite service.py" in output
    assert "1 file would change" in output


def test_check_on_a_tracked_project_exits_0(in_project: Path, write_file: WriteFile) -> None:
    write_file("service.py", SERVICE)
    assert main(["service.py"]) == 0
    assert main(["--check", "service.py"]) == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(
    in_project: Path, write_file: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_file("service.py", SERVICE)

    assert main(["--diff", "service.py"]) == 1

    assert path.read_text() == SERVICE
    output = capsys.readouterr()
    assert output.out.startswith("--- a/service.py\n+++ b/service.py\n")
    assert "-    return agent.run_sync(prompt).output\n" in output.out
    assert "+from tokentrail import run_agent_sync_with_tracking\n" in output.out
    assert "1 file would change" in output.err  # the diff alone goes to stdout


def test_summary_names_skipped_calls_and_classes_without_fields(
    in_project: Path, write_file: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    write_file("mixed.py", MIXED)

    assert main(["mixed.py"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1 file changed, 1 call rewritten (run_sync 1)."
    assert lines[1].startswith("1 class or method uses the ambient context")
    assert lines[2] == "  mixed.py: Frozen: it defines __slots__, so it cannot take new attributes"
    assert lines[3] == (
        "2 calls skipped (1 suppressed with `# noqa`, 1 could not be resolved to an agent):"
    )
    assert lines[4] == "  mixed.py:14:12: suppressed with `# noqa`"
    assert lines[5] == (
        "  mixed.py:19:16: could not be resolved to an agent"
        " (cannot resolve the receiver: looked up with getattr())"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--jobs", "0", "."], "argument --jobs: must be a whole number of at least 1, not '0'"),
        (["--check", "--diff", "."], "argument --diff: not allowed with argument --check"),
        ([], "the following arguments are required: PATH"),
    ],
)
def test_usage_errors_exit_2_naming_the_flag(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(arguments)
    assert exit_info.value.code == 2
    assert f"error: {message}" in capsys.readouterr().err


def test_configuration_error_exits_2_naming_the_key(
    in_project: Path, write_file: WriteFile, capsys: pytest.CaptureFixture[str]
) -> None:
    write_file("service.py", SERVICE)
    (in_project / "pyproject.toml").write_text('[tool.tokentrail]\ntool-nmae = "class"\n')

    assert main(["service.py"]) == 2

    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert "unknown key 'tool-nmae'" in error


def test_missing_path_exits_2(in_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["missing.py"]) == 2
    assert "error: PATH: missing.py" in capsys.readouterr().err


def test_no_callers_is_accepted_and_documented(in_project: Path, write_file: WriteFile) -> None:
    write_file("service.py", SERVICE)
    assert main(["--no-callers", "service.py"]) == 0
    assert "--no-callers" in build_parser().format_help()


def test_update_names_rewrites_only_when_asked(in_project: Path, write_file: WriteFile) -> None:
    path = write_file("service.py", SERVICE)
    assert main(["service.py"]) == 0
    (in_project / "pyproject.toml").write_text(
        '[tool.tokentrail]\ntool-name-overrides = {service = "answers"}\n'
        'operation-overrides = {"service.answer" = "reply"}\n\n[tool.ruff]\nline-length = 100\n'
    )

    assert main(["--check", "service.py"]) == 0
    assert main(["--check", "--update-names", "service.py"]) == 1
    assert main(["--update-names", "service.py"]) == 0

    text = path.read_text()
    assert 'tool_name="answers"' in text
    assert 'operation="reply"' in text
    assert main(["--check", "--update-names", "service.py"]) == 0


def test_parallel_jobs_give_the_same_result_as_one(project: Path, write_file: WriteFile) -> None:
    for number in range(40):
        write_file(f"one/service_{number}.py", SERVICE)
        write_file(f"two/service_{number}.py", SERVICE)

    serial = apply([project / "one"], write=True, jobs=1)
    parallel = apply([project / "two"], write=True, jobs=2)

    assert sum(serial.rewritten.values()) == sum(parallel.rewritten.values()) == 40
    for number in range(40):
        one = (project / "one" / f"service_{number}.py").read_text()
        two = (project / "two" / f"service_{number}.py").read_text()
        # The same module names in both folders are ambiguous, so they are dotted.
        assert f'tool_name="one.service_{number}"' in one
        assert one.replace('"one.', '"two.') == two


def test_console_script_prints_plain_text_when_piped(project: Path, write_file: WriteFile) -> None:
    write_file("service.py", SERVICE)

    completed = subprocess.run(
        [sys.executable, "-m", "tokentrail", "codemod", "--check", "service.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == (
        "would rewrite service.py\n1 file would change, 1 call rewritten (run_sync 1).\n"
    )
    assert "\x1b[" not in completed.stdout


def test_terminal_output_uses_rich(project: Path, write_file: WriteFile) -> None:
    write_file("service.py", SERVICE)
    controller, terminal = pty.openpty()
    completed = subprocess.run(
        [sys.executable, "-m", "tokentrail", "codemod", "service.py"],
        cwd=project,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        check=False,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"},
    )
    os.close(terminal)
    output = b""
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(controller)

    assert completed.returncode == 0
    text = output.decode()
    assert "\x1b[1m1 file changed, 1 call rewritten (run_sync 1).\x1b[0m" in text
