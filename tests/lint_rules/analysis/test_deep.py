"""A recursive walk deeper than the interpreter's default limit runs on a thread of its own."""

from __future__ import annotations

import ast
import sys

import pytest

from tokentrail_lint.analysis._deep import DEEP_RECURSION_LIMIT, with_deep_recursion
from tokentrail_lint.analysis._summary import summarize


def depth(node: ast.AST) -> int:
    return 1 + max((depth(child) for child in ast.iter_child_nodes(node)), default=0)


def test_a_walk_too_deep_for_the_default_limit_completes() -> None:
    tree = ast.parse("x = a" + ".b()" * 1200)
    with pytest.raises(RecursionError):
        depth(tree)

    assert with_deep_recursion(lambda: depth(tree)) > 2400
    assert sys.getrecursionlimit() < DEEP_RECURSION_LIMIT


def test_the_walks_own_errors_come_back() -> None:
    def fail() -> None:
        raise ValueError("from the walk")

    with pytest.raises(ValueError, match="from the walk"):
        with_deep_recursion(fail)


def test_a_module_with_a_deep_chain_is_summarised() -> None:
    source = "from pydantic_ai import Agent\nagent = Agent('test')\nx = agent" + ".b()" * 1200
    tree = ast.parse(source)
    with pytest.raises(RecursionError):
        summarize(tree, "deep", False)

    summary = with_deep_recursion(lambda: summarize(tree, "deep", False))

    assert summary["error"] is None
    assert {"agent", "x"} <= set(summary["symbols"])
