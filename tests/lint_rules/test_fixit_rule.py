"""The Fixit rule: its own VALID / INVALID cases, and a real `fixit` run on a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libcst
import pytest
from fixit.testing import add_lint_rule_tests_to_module

from tokentrail_lint.fixit_rule import UntrackedAgentRun, _imported_wrappers

add_lint_rule_tests_to_module(globals(), [UntrackedAgentRun()])

_UNTRACKED = """from pydantic_ai import Agent
from tokentrail import run_agent_sync_with_tracking

agent = Agent("test")


def answer(question: str) -> str:
    return agent.run_sync(question).output


def tracked(question: str) -> str:
    return run_agent_sync_with_tracking(agent, question).output
"""


def test_fixit_fix_rewrites_where_the_wrapper_is_imported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fixit]\nroot = true\ndisable = ["fixit.rules"]\n'
        'enable = ["tokentrail_lint.fixit_rule"]\n',
        encoding="utf-8",
    )
    module = tmp_path / "service.py"
    module.write_text(_UNTRACKED, encoding="utf-8")
    fixit = Path(sys.executable).parent / "fixit"

    lint = subprocess.run(
        [fixit, "lint", "service.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert "service.py@8:11 UntrackedAgentRun: untracked agent run `agent.run_sync(...)`" in (
        lint.stdout
    ), lint.stdout + lint.stderr
    assert lint.returncode != 0

    subprocess.run(
        [fixit, "fix", "--automatic", "service.py"], cwd=tmp_path, capture_output=True, check=False
    )
    assert (
        "return run_agent_sync_with_tracking(agent, question).output"
        in module.read_text(encoding="utf-8").split("def tracked")[0]
    )


@pytest.mark.parametrize(
    ("imports", "expected"),
    [
        ("from tokentrail import run_agent_with_tracking\n", "run_agent_with_tracking"),
        ("from tokentrail import run_agent_with_tracking as tracked\n", "tracked"),
        ("from tokentrail import *\n", "run_agent_with_tracking"),
        ("import tokentrail\n", "tokentrail.run_agent_with_tracking"),
        ("import tokentrail as tt\n", "tt.run_agent_with_tracking"),
        ("from other import run_agent_with_tracking\nimport os\n", None),
        ("from . import run_agent_with_tracking\n", None),
        ("if True:\n    from tokentrail import run_agent_with_tracking\n", None),
    ],
)
def test_the_fix_calls_the_wrapper_as_the_module_imports_it(
    imports: str, expected: str | None
) -> None:
    module = libcst.parse_module(imports)
    assert _imported_wrappers(module).get("run_agent_with_tracking") == expected
