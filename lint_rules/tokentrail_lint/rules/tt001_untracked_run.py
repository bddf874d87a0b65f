"""TT001: an agent run that does not go through a tracking wrapper.

Every `agent.run(...)`, `run_sync`, `run_stream`, `run_stream_sync`, `run_stream_events` or
`iter` call spends tokens. When it is not wrapped, nobody is billed for it and the `token_usage`
table under-reports. `tokentrail codemod` (or `tokentrail check --fix`) rewrites such calls into
the matching `run_agent_*_with_tracking` wrapper. A call that is deliberately untracked can say
so with `# noqa: TT001` on the call's line.

`super().run(...)` inside an `Agent` subclass's own run method is part of the outer run and is
not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import WRAPPER_FOR_METHOD, FileAnalysis, Verdict
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule, describe_scope


def _find(file: FileAnalysis) -> Iterator[Problem]:
    for run in file.runs:
        if run.tracked or run.is_super_call or run.verdict is not Verdict.AGENT_RUN:
            continue
        wrapper = WRAPPER_FOR_METHOD.get(run.method, "a tracking wrapper")
        yield Problem(
            span=run.span,
            message=(
                f"untracked agent run `{run.receiver}.{run.method}(...)`: call it through "
                f"`{wrapper}` (run `tokentrail codemod`)"
            ),
            subject=f"{describe_scope(run.scope)}:{run.receiver}.{run.method}",
            suppressed_codes=run.suppressed_codes,
        )


RULE = Rule(
    code="TT001",
    name="untracked-agent-run",
    summary="untracked agent run",
    default_severity=Severity.ERROR,
    rationale=(
        "An agent run outside a tracking wrapper spends tokens that no usage record accounts "
        "for, so bills and quotas come out short."
    ),
    find=_find,
    valid=(
        "from pydantic_ai import Agent\n"
        "from tokentrail import run_agent_with_tracking\n"
        "\n"
        "agent = Agent('test')\n"
        "\n"
        "async def answer(question: str) -> str:\n"
        "    result = await run_agent_with_tracking(agent, question)\n"
        "    return result.output\n",
        "from pydantic_ai import Agent\n"
        "\n"
        "agent = Agent('test')\n"
        "\n"
        "def answer(question: str) -> str:\n"
        "    return agent.run_sync(question).output  # noqa: TT001\n",
    ),
    invalid=(
        "from pydantic_ai import Agent\n"
        "\n"
        "agent = Agent('test')\n"
        "\n"
        "async def answer(question: str) -> str:\n"
        "    result = await agent.run(question)\n"
        "    return result.output\n",
    ),
)
