"""TT006: a call that may be an agent run but could not be resolved.

The analysis follows imports, assignments, attributes and annotations; when a receiver comes
from somewhere it cannot see (an untyped parameter, a dictionary, a factory in another package),
a `.run(...)` call stays undecided. Information only: annotate the receiver with `Agent[...]`
(or the class that holds it) so the checker can decide, or ignore the code if the project has
many such calls.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import FileAnalysis, Verdict
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule, describe_scope


def _find(file: FileAnalysis) -> Iterator[Problem]:
    for run in file.runs:
        if run.tracked or run.verdict is not Verdict.UNKNOWN:
            continue
        because = f" ({run.reason})" if run.reason else ""
        yield Problem(
            span=run.span,
            message=(
                f"`{run.receiver}.{run.method}(...)` may be an agent run but could not be "
                f"resolved{because}: annotate the receiver so the checker can decide"
            ),
            subject=f"{describe_scope(run.scope)}:{run.receiver}.{run.method}",
            suppressed_codes=run.suppressed_codes,
        )


RULE = Rule(
    code="TT006",
    name="unresolved-call",
    summary="call that may be an agent run but could not be resolved",
    default_severity=Severity.INFO,
    rationale=(
        "An undecided call is a possible blind spot: coverage cannot count it and the checker "
        "cannot enforce it until its receiver is known."
    ),
    find=_find,
    valid=(
        "import subprocess\n"
        "\n"
        "from pydantic_ai import Agent\n"
        "\n"
        "\n"
        "def answer(agent: Agent[None, str], question: str) -> str:\n"
        "    return agent.run_sync(question).output  # noqa: TT001\n"
        "\n"
        "\n"
        "def build() -> None:\n"
        "    subprocess.run(['make'], check=True)\n",
    ),
    invalid=(
        "from pydantic_ai import Agent\n"
        "\n"
        "\n"
        "def answer(agent, question: str) -> object:\n"
        "    return agent.run_sync(question)\n",
    ),
)
