"""The checker's rules, one module per code."""

from __future__ import annotations

from typing import Final

from tokentrail_lint.rules import (
    tt000_unreadable_file,
    tt001_untracked_run,
    tt002_stale_operation,
    tt003_class_without_context,
    tt004_service_without_context,
    tt005_unreachable_entry_point,
    tt006_unresolved_call,
)
from tokentrail_lint.rules._rule import Problem, Rule

ALL_RULES: Final[tuple[Rule, ...]] = (
    tt000_unreadable_file.RULE,
    tt001_untracked_run.RULE,
    tt002_stale_operation.RULE,
    tt003_class_without_context.RULE,
    tt004_service_without_context.RULE,
    tt005_unreachable_entry_point.RULE,
    tt006_unresolved_call.RULE,
)

RULES_BY_CODE: Final[dict[str, Rule]] = {rule.code: rule for rule in ALL_RULES}

RESERVED_CODES: Final[frozenset[str]] = frozenset()
"""Codes that exist in the contract but have no rule yet; selecting them is not an error."""

__all__ = ["ALL_RULES", "RESERVED_CODES", "RULES_BY_CODE", "Problem", "Rule"]
