"""The codemod changes nothing but the runs it rewrites and the plumbing it adds.

`tests/codemods/test_property.py` shows that generated programs come out parsable and final.
Here the rewritten tree is compared with the original: undo what the codemod is allowed to do
(wrapper calls back into agent runs, the plumbing fields and method out, imports set apart) and
the two `ast` trees must be identical. The checker, run on the same programs, must count exactly
the runs the codemod rewrote.
"""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path
from typing import Final

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.codemods.test_property import HEADER, PYPROJECT, programs

from tokentrail_codemods import apply
from tokentrail_lint.analysis import analyze
from tokentrail_lint.analysis.model import Verdict

WRAPPED_METHODS: Final = {
    "run_agent_with_tracking": "run",
    "run_agent_sync_with_tracking": "run_sync",
    "run_agent_stream_with_tracking": "run_stream",
    "run_agent_stream_sync_with_tracking": "run_stream_sync",
    "run_agent_iter_with_tracking": "iter",
    "run_agent_stream_events_with_tracking": "run_stream_events",
}
ADDED_KEYWORDS: Final = {"tool_name", "operation", "tracker", "user_id", "organization_id"}
PLUMBING_NAMES: Final = {"_tracker", "_user_id", "_org_id"}


class _UndoRewrite(ast.NodeTransformer):
    """Turn a rewritten tree back into what the codemod started from, if it kept its promise."""

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in WRAPPED_METHODS and node.args:
            agent, *arguments = node.args
            method = ast.Attribute(agent, WRAPPED_METHODS[node.func.id], ast.Load())
            keywords = [keyword for keyword in node.keywords if keyword.arg not in ADDED_KEYWORDS]
            return ast.Call(method, arguments, keywords)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        self.generic_visit(node)
        node.body = [statement for statement in node.body if not _is_plumbing(statement)]
        return node


def _is_plumbing(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.FunctionDef) and statement.name == "set_tracking_context":
        return True
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id in PLUMBING_NAMES
    return False


def _without_imports(tree: ast.Module) -> tuple[str, set[str]]:
    """The tree's dump with import statements left out, and every name they import."""
    names: set[str] = set()
    body = []
    for statement in tree.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            names |= {
                f"{getattr(statement, 'module', '')}.{alias.name}" for alias in statement.names
            }
        else:
            body.append(statement)
    return ast.dump(ast.Module(body, tree.type_ignores)), names


def _rewrite(source: str) -> tuple[str, int, int]:
    """The rewritten text, the runs the codemod rewrote and the TT001 runs the checker saw."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "pyproject.toml").write_text(PYPROJECT)
        path = root / "generated.py"
        path.write_text(source)
        runs = analyze([path], root=root, use_cache=False).files[0].runs
        untracked = sum(1 for run in runs if run.verdict is Verdict.AGENT_RUN and not run.tracked)
        result = apply([path], write=True, use_cache=False)
        assert result.errors == []
        return path.read_text(), sum(result.rewritten.values()), untracked


def _assert_only_runs_and_plumbing_changed(source: str, rewritten: str) -> None:
    original_body, original_imports = _without_imports(ast.parse(source))
    undone_body, rewritten_imports = _without_imports(_UndoRewrite().visit(ast.parse(rewritten)))
    assert undone_body == original_body
    assert original_imports <= rewritten_imports
    added = {name.rpartition(".")[2] for name in rewritten_imports - original_imports}
    assert added <= {*WRAPPED_METHODS, "UsageTracker", "field"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_services_change_only_at_runs_and_plumbing(program: tuple[str, int]) -> None:
    source, runs = program

    rewritten, rewritten_runs, seen_by_checker = _rewrite(source)

    assert rewritten_runs == runs == seen_by_checker
    _assert_only_runs_and_plumbing_changed(source, rewritten)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar(), st.sampled_from(["run_sync", "run"]))
def test_arbitrary_code_around_a_run_is_left_as_it_was(code: str, method: str) -> None:
    call = "agent.run_sync('hi')" if method == "run_sync" else "agent.run('hi')"
    source = f"{HEADER}{code}\n\nanswer = {call}\n"
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return  # hypothesmith's grammar is wider than what this interpreter's parser accepts

    rewritten, rewritten_runs, _ = _rewrite(source)

    assert rewritten_runs >= 1
    _assert_only_runs_and_plumbing_changed(source, rewritten)
