"""For generated programs, the rewritten file parses and a second run changes nothing."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokentrail_codemods import apply

HEADER = '"""Generated."""\n\nfrom pydantic_ai import Agent\n\nagent = Agent("test")\n'
PYPROJECT = "[tool.tokentrail]\n\n[tool.ruff]\nline-length = 88\n"

ARGUMENTS = st.lists(
    st.sampled_from(
        [
            "prompt",
            '"a fixed prompt"',
            "deps=None",
            "*extra",
            "**options",
            "message_history=[]",
            "model_settings={'temperature': 0.0, 'max_tokens': 1000, 'seed': 12345678}",
            "# a comment\n prompt",
        ]
    ),
    max_size=3,
)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, str]:
    """A run call and the statement that uses it, for sync or async code."""
    arguments = draw(ARGUMENTS)
    positional = [a for a in arguments if "=" not in a and not a.startswith("**")]
    keywords = [a for a in arguments if a not in positional]
    written = ", ".join(positional + keywords)
    if draw(st.booleans()):
        written += ","  # a magic trailing comma
    shape = draw(
        st.sampled_from(
            [
                ("sync", "result = agent.run_sync({})"),
                ("async", "result = await agent.run({})"),
                ("async", "results = await asyncio.gather(agent.run({}), agent.run({}))"),
                ("async", "async with agent.run_stream({}) as stream:\n    pass"),
                ("async", "async with lock, agent.iter({}) as run:\n    pass"),
                ("sync", "with agent.run_stream_sync({}) as stream:\n    pass"),
                ("sync", "return agent.run_stream({})"),
            ]
        )
    )
    return shape[0], shape[1].replace("{}", written if written.strip(",") else "")


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, int]:
    """A module of functions, methods and classes holding agent runs; and how many runs."""
    parts = [HEADER, "import asyncio\n\nlock = asyncio.Lock()\n"]
    total = 0
    for number in range(draw(st.integers(min_value=1, max_value=4))):
        kind, statement = draw(calls())
        total += statement.count("agent.")
        parameters = "prompt, *extra, **options"
        definition = f"{'async ' if kind == 'async' else ''}def operation_{number}"
        container = draw(st.sampled_from(["function", "method", "nested", "dataclass"]))
        if container == "function":
            parts.append(f"\n\n{definition}({parameters}):\n{_indent(statement, '    ')}\n")
        else:
            decorator = "@dataclass\n" if container == "dataclass" else ""
            body = _indent(statement, "        ")
            if container == "nested":
                inner = _indent(statement, "            ")
                body = f"        def inner():\n{inner}\n        return inner"
            parts.append(
                f'\n\n{decorator}class Service{number}:\n    """A service."""\n\n'
                f"    {definition}(self, {parameters}):\n{body}\n"
            )
    source = "".join(parts)
    if "@dataclass" in source:
        source = source.replace(
            "import asyncio\n", "import asyncio\nfrom dataclasses import dataclass\n"
        )
    return source, total


def _rewrite_twice(source: str) -> tuple[str, str, int]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "pyproject.toml").write_text(PYPROJECT)
        path = root / "generated.py"
        path.write_text(source)
        first = apply([path], write=True)
        once = path.read_text()
        second = apply([path], write=True)
        assert second.changed == []
        assert first.errors == second.errors == []
        return once, path.read_text(), sum(first.rewritten.values())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_services_are_rewritten_validly_and_once(program: tuple[str, int]) -> None:
    source, runs = program
    ast.parse(source)  # the generator writes valid programs

    once, twice, rewritten = _rewrite_twice(source)

    assert rewritten == runs
    assert once == twice
    ast.parse(once)
    cst.parse_module(once)
    for method in (".run(", ".run_sync(", ".run_stream(", ".run_stream_sync(", ".iter("):
        assert method not in once


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_arbitrary_code_around_a_run_is_never_broken(code: str) -> None:
    source = HEADER + code + "\n\nanswer = agent.run_sync('hi')\n"
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return  # hypothesmith's grammar is wider than what this interpreter's parser accepts
    once, twice, _ = _rewrite_twice(source)

    assert once == twice
    ast.parse(once)
