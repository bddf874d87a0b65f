"""The rewrite under libcst's own runner gives the same text as `tokentrail codemod`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from libcst.codemod import CodemodContext, TransformSkip, TransformSuccess, transform_module

from tokentrail_codemods.libcst_command import TrackAgentRuns

CASES = Path(__file__).parent / "fixtures" / "cases"


def _transform(path: Path) -> object:
    context = CodemodContext(filename=str(path))
    return transform_module(TrackAgentRuns(context), path.read_text())


def test_runner_writes_what_the_fixture_expects(project: Path) -> None:
    path = project / "service.py"
    shutil.copy(CASES / "dataclass_service" / "before.py", path)

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "--no-format",
            "--hide-progress",
            "-x",
            "tokentrail_codemods.libcst_command.TrackAgentRuns",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert path.read_text() == (CASES / "dataclass_service" / "after.py").read_text()


def test_skipped_calls_become_warnings(project: Path) -> None:
    path = project / "service.py"
    shutil.copy(CASES / "unknown_receiver" / "before.py", path)

    result = _transform(path)

    assert isinstance(result, TransformSuccess)
    assert result.code == (CASES / "unknown_receiver" / "after.py").read_text()
    assert result.warning_messages == [
        "line 8: could not be resolved to an agent"
        " (cannot resolve the receiver: looked up with getattr())"
    ]


def test_files_without_untracked_runs_are_skipped(project: Path) -> None:
    path = project / "service.py"
    shutil.copy(CASES / "already_tracked" / "before.py", path)

    result = _transform(path)

    assert isinstance(result, TransformSkip)
    assert result.skip_description == "no untracked agent runs"


def test_code_without_a_file_name_is_skipped() -> None:
    result = transform_module(TrackAgentRuns(CodemodContext()), "x = 1\n")
    assert isinstance(result, TransformSkip)
