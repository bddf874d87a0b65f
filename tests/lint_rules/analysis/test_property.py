"""Whatever valid Python a file holds, the analysis answers instead of crashing."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, example, given, settings

from tokentrail_lint.analysis import analyze
from tokentrail_lint.config import Config

_PREFIX = "import pydantic_ai\nfrom pydantic_ai import Agent\nagent = Agent('test')\n"
_SUFFIX = "\nagent.run_sync('x')\n"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(source=hypothesmith.from_node())
@example(source="try:\n pass\nfinally\\\r:\n pass\n")  # a lone carriage return ends a line
def test_any_program_is_analysed_without_crashing(source: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / "generated.py"
        path.write_text(_PREFIX + source + _SUFFIX, encoding="utf-8")

        [analysis] = analyze([path], root=root, config=Config(), use_cache=False).files

    if analysis.error is None:
        assert analysis.runs
        last = max(analysis.runs, key=lambda site: site.span.line)
        assert last.method == "run_sync"
        # Python ends a line at "\r\n", "\r" or "\n" alike.
        assert last.span.line == len(re.findall(r"\r\n|\r|\n", _PREFIX + source)) + 2
