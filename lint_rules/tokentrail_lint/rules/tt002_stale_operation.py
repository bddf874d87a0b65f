"""TT002: a tracked call whose `operation=` names a function it is no longer in.

The codemod writes `operation="<enclosing method>"`. When the method is renamed or the call is
moved, the literal keeps the old name and usage reports group the run under an operation that no
longer exists. Only literals that look like what the codemod writes (an identifier, or
`<module>`) are compared; free-form labels such as `"summarize ticket"` are left alone. Off by
default: select it with `--select TT002`.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import FileAnalysis
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule, describe_scope

_MODULE_OPERATION = "<module>"


def _looks_generated(literal: str) -> bool:
    return literal == _MODULE_OPERATION or literal.isidentifier()


def _find(file: FileAnalysis) -> Iterator[Problem]:
    for run in file.runs:
        literal = run.operation_literal
        if not run.tracked or literal is None or not _looks_generated(literal):
            continue
        expected = run.scope.function_name or _MODULE_OPERATION
        if literal == expected:
            continue
        yield Problem(
            span=run.span,
            message=(
                f'`operation="{literal}"` no longer matches its function `{expected}`: '
                f'write `operation="{expected}"` or run `tokentrail codemod --update-names`'
            ),
            subject=f"{describe_scope(run.scope)}:{run.receiver}.{run.method}:{literal}",
            suppressed_codes=run.suppressed_codes,
        )


RULE = Rule(
    code="TT002",
    name="stale-operation-name",
    summary="tracked call whose `operation=` no longer matches its function",
    default_severity=Severity.OFF,
    rationale=(
        "Usage is reported per operation; a literal left behind by a rename files the run "
        "under a name that no longer exists in the code."
    ),
    find=_find,
    valid=(
        "from pydantic_ai import Agent\n"
        "from tokentrail import run_agent_sync_with_tracking\n"
        "\n"
        "agent = Agent('test')\n"
        "\n"
        "def summarize(text: str) -> str:\n"
        "    return run_agent_sync_with_tracking(\n"
        "        agent, text, tool_name='notes', operation='summarize'\n"
        "    ).output\n",
    ),
    invalid=(
        "from pydantic_ai import Agent\n"
        "from tokentrail import run_agent_sync_with_tracking\n"
        "\n"
        "agent = Agent('test')\n"
        "\n"
        "def condense(text: str) -> str:\n"
        "    return run_agent_sync_with_tracking(\n"
        "        agent, text, tool_name='notes', operation='summarize'\n"
        "    ).output\n",
    ),
)
