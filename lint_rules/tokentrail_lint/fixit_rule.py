"""TT001 as a Fixit 2 rule, for teams that already run Fixit.

Enable it with `[tool.fixit] enable = ["tokentrail_lint.fixit_rule"]` (install
`tokentrail[fixit]`). It reads the same analysis as `tokentrail check`, so both report the same
calls and both honour `# noqa: TT001` (Fixit's own `# lint-ignore: UntrackedAgentRun` works too).

Fixit hands a rule the module, not its path, so each module is analysed on its own: an agent
imported from another module of the project is resolved by `tokentrail check`, which sees the
whole project, and may stay undecided here. A Fixit fix can only replace the reported call, never
add an import: the fix is offered where the module already imports the wrapper, and the message
points to `tokentrail codemod` everywhere else.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import ClassVar, Final

import libcst as cst
from fixit import Invalid, LintRule, Valid
from libcst.metadata import PositionProvider

from tokentrail_lint.analysis import analyze
from tokentrail_lint.analysis.model import WRAPPER_FOR_METHOD, RunSite, Verdict
from tokentrail_lint.config import Config

_WRAPPER_MODULE: Final = "tokentrail"
_MESSAGE: Final = "untracked agent run `{call}(...)`: call it through `{wrapper}`"


def _untracked_runs(source: str) -> dict[tuple[int, int], RunSite]:
    """Analyse one module's source; key its reportable runs by (line, 1-based column)."""
    with tempfile.TemporaryDirectory(prefix="tokentrail-fixit-") as folder:
        path = Path(folder) / "module.py"
        path.write_text(source, encoding="utf-8")
        project = analyze([path], root=Path(folder), config=Config(), use_cache=False)
    return {
        (run.span.line, run.span.column): run
        for file in project.files
        for run in file.runs
        if run.verdict is Verdict.AGENT_RUN
        and not run.tracked
        and not run.is_super_call
        and "TT001" not in run.suppressed_codes
    }


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _imported_wrappers(module: cst.Module) -> dict[str, str]:
    """Map each wrapper name to how this module can call it, from its top-level imports."""
    reachable: dict[str, str] = {}
    wrappers = set(WRAPPER_FOR_METHOD.values())
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.relative == ():
                if small.module is None or _dotted(small.module) != _WRAPPER_MODULE:
                    continue
                if isinstance(small.names, cst.ImportStar):
                    reachable.update({name: name for name in wrappers})
                    continue
                for alias in small.names:
                    name = _dotted(alias.name)
                    if name in wrappers:
                        local = alias.asname.name if alias.asname else alias.name
                        reachable[name] = _dotted(local) or name
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if _dotted(alias.name) != _WRAPPER_MODULE:
                        continue
                    prefix = _dotted(alias.asname.name) if alias.asname else _WRAPPER_MODULE
                    reachable.update({name: f"{prefix}.{name}" for name in wrappers})
    return reachable


class UntrackedAgentRun(LintRule):
    """Report agent runs that do not go through a tokentrail wrapper (TT001)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    VALID: ClassVar[list[str | Valid]] = [
        Valid(
            """
            from pydantic_ai import Agent
            from tokentrail import run_agent_sync_with_tracking

            agent = Agent("test")

            def answer(question: str) -> str:
                return run_agent_sync_with_tracking(agent, question).output
            """
        ),
        Valid(
            """
            from pydantic_ai import Agent

            agent = Agent("test")

            def answer(question: str) -> str:
                return agent.run_sync(question).output  # noqa: TT001
            """
        ),
        Valid(
            """
            import subprocess

            def build() -> None:
                subprocess.run(["make"], check=True)
            """
        ),
    ]
    INVALID: ClassVar[list[str | Invalid]] = [
        Invalid(
            """
            from pydantic_ai import Agent
            from tokentrail import run_agent_with_tracking

            agent = Agent("test")

            async def answer(question: str) -> str:
                result = await agent.run(question)
                return result.output
            """,
            expected_replacement="""
            from pydantic_ai import Agent
            from tokentrail import run_agent_with_tracking

            agent = Agent("test")

            async def answer(question: str) -> str:
                result = await run_agent_with_tracking(agent, question)
                return result.output
            """,
        ),
        Invalid(
            """
            from pydantic_ai import Agent

            agent = Agent("test")

            def answer(question: str) -> str:
                return agent.run_sync(question).output
            """,
            expected_message=(
                "untracked agent run `agent.run_sync(...)`: call it through "
                "`run_agent_sync_with_tracking` (run `tokentrail codemod`, which adds the import)"
            ),
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[tuple[int, int], RunSite] = {}
        self._wrappers: dict[str, str] = {}

    def visit_Module(self, node: cst.Module) -> None:
        """Analyse the module once, before its calls are visited."""
        self._runs = _untracked_runs(node.code)
        self._wrappers = _imported_wrappers(node) if self._runs else {}

    def visit_Call(self, node: cst.Call) -> None:
        """Report a call the analysis found to be an untracked agent run."""
        if not isinstance(node.func, cst.Attribute):
            return
        start = self.get_metadata(PositionProvider, node).start
        run = self._runs.get((start.line, start.column + 1))
        if run is None or node.func.attr.value != run.method:
            return

        wrapper = WRAPPER_FOR_METHOD[run.method]
        message = _MESSAGE.format(call=f"{run.receiver}.{run.method}", wrapper=wrapper)
        callable_name = self._wrappers.get(wrapper)
        if callable_name is None:
            self.report(node, f"{message} (run `tokentrail codemod`, which adds the import)")
            return
        replacement = node.with_changes(
            func=cst.parse_expression(callable_name),
            args=[cst.Arg(node.func.value), *node.args],
        )
        self.report(node, message, replacement=replacement)
