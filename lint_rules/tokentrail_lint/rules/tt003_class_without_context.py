"""TT003: a class that runs agents but cannot hold a tracking context.

The codemod gives a service class `_tracker`, `_user_id` and `_org_id` fields and a
`set_tracking_context` method, so each request's instance bills the right user. Classes that
cannot take new attributes (`__slots__`, frozen or slotted dataclasses, attrs, `NamedTuple`,
`Enum`, `Protocol`) get none: their runs fall back to the ambient `tracking_context(...)`, and
a run outside one is billed to nobody. Give the class the fields yourself (add them to
`__slots__` or the dataclass), or make sure every caller wraps it in `tracking_context(...)` and
add this file to `per-file-ignores` for TT003.
"""

from __future__ import annotations

from collections.abc import Iterator

from tokentrail_lint.analysis.model import ContextCapability, FileAnalysis, Verdict
from tokentrail_lint.findings import Severity
from tokentrail_lint.rules._rule import Problem, Rule


def _find(file: FileAnalysis) -> Iterator[Problem]:
    classes_with_runs = {
        run.scope.class_name
        for run in file.runs
        if (run.tracked or run.verdict is Verdict.AGENT_RUN) and not run.is_super_call
    }
    for facts in file.classes:
        if facts.capability is not ContextCapability.CANNOT_HOLD:
            continue
        if facts.name not in classes_with_runs:
            continue
        because = f" ({facts.reason})" if facts.reason else ""
        yield Problem(
            span=facts.span,
            message=(
                f"class `{facts.name}` runs agents but cannot hold a tracking context{because}: "
                "its runs use the ambient `tracking_context(...)`; add the fields yourself or "
                "make every caller set that context"
            ),
            subject=facts.name,
        )


RULE = Rule(
    code="TT003",
    name="class-without-context",
    summary="class with tracked runs that cannot receive context",
    default_severity=Severity.ERROR,
    rationale=(
        "A service that cannot hold its user and organization bills its runs to whoever the "
        "ambient context names, which is nobody outside a `tracking_context(...)`."
    ),
    find=_find,
    valid=(
        "from pydantic_ai import Agent\n"
        "from tokentrail import run_agent_with_tracking\n"
        "\n"
        "class Writer:\n"
        "    def __init__(self) -> None:\n"
        "        self.agent = Agent('test')\n"
        "\n"
        "    async def write(self, topic: str) -> str:\n"
        "        result = await run_agent_with_tracking(self.agent, topic)\n"
        "        return result.output\n",
    ),
    invalid=(
        "from pydantic_ai import Agent\n"
        "from tokentrail import run_agent_with_tracking\n"
        "\n"
        "class Writer:\n"
        "    __slots__ = ('agent',)\n"
        "\n"
        "    def __init__(self) -> None:\n"
        "        self.agent = Agent('test')\n"
        "\n"
        "    async def write(self, topic: str) -> str:\n"
        "        result = await run_agent_with_tracking(self.agent, topic)\n"
        "        return result.output\n",
    ),
)
