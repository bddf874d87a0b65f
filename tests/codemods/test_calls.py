"""One call at a time: what the rewrite keeps, and what it refuses."""

from __future__ import annotations

import pytest

from tokentrail_codemods._calls import CallShapeError, LineContext, rewrite_call, update_names

NAMES = [("tool_name", '"svc"'), ("operation", '"go"')]


def _rewrite(snippet: str, prefix: str = "    x = ", suffix: str = "", length: int = 100) -> str:
    return rewrite_call(
        snippet,
        method="run",
        wrapper="run_agent_with_tracking",
        keywords=NAMES,
        context=LineContext(prefix, suffix, prefix[: len(prefix) - len(prefix.lstrip())], length),
    )


def test_receiver_becomes_the_first_argument_and_names_come_last() -> None:
    assert _rewrite("agents['a'].run(p, deps=d)") == (
        'run_agent_with_tracking(agents[\'a\'], p, deps=d, tool_name="svc", operation="go")'
    )


def test_parenthesized_receiver_keeps_its_parentheses() -> None:
    assert _rewrite("(a if c else b).run(p)").startswith(
        "run_agent_with_tracking((a if c else b), p,"
    )


def test_a_magic_trailing_comma_keeps_one_argument_per_line() -> None:
    assert _rewrite("agent.run(p,)") == (
        "run_agent_with_tracking(\n"
        "        agent,\n"
        "        p,\n"
        '        tool_name="svc",\n'
        '        operation="go",\n'
        "    )"
    )


def test_pragma_comments_do_not_count_towards_the_width() -> None:
    snippet = "agent.run(p)"
    one_line = _rewrite(snippet)
    prefix = "    x = "
    room = 100 - len(prefix) - len(one_line)
    assert "\n" not in _rewrite(snippet, suffix="  # noqa: E501" + "x" * room)
    assert "\n" in _rewrite(snippet, suffix="  # an ordinary comment" + "x" * room)


def test_calls_nested_in_brackets_stay_on_one_line() -> None:
    rewritten = _rewrite("agent.run(p)", prefix="    x = gather(", suffix=", other)", length=40)
    assert "\n" not in rewritten


def test_tabs_indent_exploded_arguments_with_tabs() -> None:
    rewritten = rewrite_call(
        "agent.run(p)",
        method="run",
        wrapper="w",
        keywords=NAMES,
        context=LineContext("\tx = ", "", "\t", 10),
    )
    assert rewritten.splitlines()[1] == "\t\tagent,"


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("agent.run(", "does not parse on its own"),
        ("agent.iter(p)", "not a call of `.run(...)`"),
        ("run(p)", "not a call of `.run(...)`"),
    ],
)
def test_text_that_is_not_the_expected_call_is_refused(snippet: str, message: str) -> None:
    with pytest.raises(CallShapeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _rewrite(snippet)


def test_update_names_replaces_plain_literals_only() -> None:
    snippet = 'run_agent_with_tracking(agent, p, tool_name="old", operation=f"{name}")'
    assert update_names(snippet, {"tool_name": "new", "operation": "op"}) == (
        'run_agent_with_tracking(agent, p, tool_name="new", operation=f"{name}")'
    )


@pytest.mark.parametrize(
    "snippet",
    ['run_agent_with_tracking(agent, tool_name="same")', "not a call", "broken("],
)
def test_update_names_leaves_the_rest_alone(snippet: str) -> None:
    assert update_names(snippet, {"tool_name": "same"}) is None
