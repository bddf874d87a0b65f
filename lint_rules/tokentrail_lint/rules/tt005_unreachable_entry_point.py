"""TT005: an agent exposed through an entry point that no call-site wrapper reaches.

`agent.to_web()`, `agent.to_cli()`, UI adapters such as `to_ag_ui()` and durable-execution
wrappers such as `TemporalAgent(agent)` run the agent from pydantic-ai's own code, so no
`run_agent_*_with_tracking` call can wrap those runs. A warning, because the fix is a design
choice: meter them with an agent-level capability, or accept and document the gap with
`# noqa: TT005`.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import FileAnalysis
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule, describe_scope


def _find(file: FileAnalysis) -> Iterator[Problem]:
    for entry in file.entry_points:
        yield Problem(
            span=entry.span,
            message=(
                f"`{entry.name}` runs the agent where no tracking wrapper reaches: those runs "
                "are not metered"
            ),
            subject=f"{describe_scope(entry.scope)}:{entry.name}",
            suppressed_codes=entry.suppressed_codes,
        )


RULE = Rule(
    code="TT005",
    name="unreachable-entry-point",
    summary="agent run through an entry point no call-site wrapper reaches",
    default_severity=Severity.WARNING,
    rationale=(
        "Runs started by pydantic-ai's own entry points bypass every call-site wrapper, so "
        "their tokens go unrecorded unless something else meters them."
    ),
    find=_find,
    valid=(
        "from pydantic_ai import Agent\n"
        "\n"
        "agent = Agent('test')\n"
        "app = agent.to_web()  # noqa: TT005\n",
    ),
    invalid=("from pydantic_ai import Agent\n\nagent = Agent('test')\napp = agent.to_web()\n",),
)
