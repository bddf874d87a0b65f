"""The summary a codemod run prints: what changed, what was skipped and why, what is left."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from tokentrail_codemods._apply import CodemodResult
from tokentrail_codemods._transform import SkipReason


def display_path(path: Path, cwd: Path) -> str:
    """`path` relative to the working directory when it is below it, else as given."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return os.path.relpath(path, cwd) if path.is_absolute() else str(path)


def summary_lines(result: CodemodResult, cwd: Path) -> list[str]:
    """The summary, one line per fact, in the order a reader wants them."""
    verb = "changed" if result.written else "would change"
    calls = _count(sum(result.rewritten.values()), "call")
    lines = [f"{_count(len(result.changed), 'file')} {verb}, {calls} rewritten{_by_kind(result)}."]
    if result.renamed:
        lines.append(f"{_count(result.renamed, 'tracked call')} with updated names.")
    if result.plumbed_classes:
        names = ", ".join(name for _, name in result.plumbed_classes)
        classes = _count(len(result.plumbed_classes), "class", "classes")
        lines.append(f"{classes} given tracking context fields: {names}.")
    if result.callers_set_up:
        places = _count(result.callers_set_up, "place")
        lines.append(f"{places} that create a per-request service now set up its context.")
    if result.pages_bound:
        verb = "binds" if result.pages_bound == 1 else "bind"
        pages = _count(result.pages_bound, "page")
        lines.append(f"{pages} now {verb} the tracking context at the top.")
    lines += _caller_lines(result, cwd)
    lines += _ambient_lines(result, cwd)
    lines += _skipped_lines(result, cwd)

    if result.errors:
        files = _count(len(result.errors), "file")
        lines.append(f"{files} could not be processed and were left untouched (see above).")
    return lines


def _ambient_lines(result: CodemodResult, cwd: Path) -> list[str]:
    if not result.ambient:
        return []
    count = len(result.ambient)
    subject = "1 class or method uses" if count == 1 else f"{count} classes or methods use"
    lines = [
        f"{subject} the ambient context (tracking_context or the identity provider)"
        " because it cannot carry its own:"
    ]
    for entry in result.ambient:
        reason = entry.reason or "it cannot take new attributes"
        lines.append(f"  {display_path(entry.path, cwd)}: {entry.name}: {reason}")
    return lines


def _caller_lines(result: CodemodResult, cwd: Path) -> list[str]:
    if not result.caller_notes:
        return []
    count = len(result.caller_notes)
    if count == 1:
        lines = ["1 place that creates or uses a tracked service needs your attention:"]
    else:
        lines = [f"{count} places that create or use a tracked service need your attention:"]
    for note in result.caller_notes:
        lines.append(f"  {display_path(note.path, cwd)}:{note.line}:{note.column}: {note.message}")
    return lines


def _skipped_lines(result: CodemodResult, cwd: Path) -> list[str]:
    if not result.skipped:
        return []
    reasons = Counter(skip.reason for skip in result.skipped)
    detail = ", ".join(f"{count} {reason.value}" for reason, count in reasons.items())
    lines = [f"{_count(len(result.skipped), 'call')} skipped ({detail}):"]
    for skip in sorted(result.skipped, key=lambda item: (item.path, item.line, item.column)):
        where = f"{display_path(skip.path, cwd)}:{skip.line}:{skip.column}"
        because = f" ({skip.detail})" if skip.detail else ""
        lines.append(f"  {where}: {skip.reason.value}{because}")
    if reasons[SkipReason.UNKNOWN]:
        lines.append(
            "  To have these rewritten, declare the agent types or factories in [tool.tokentrail]"
            " or annotate the receivers with Agent."
        )
    return lines


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _by_kind(result: CodemodResult) -> str:
    if not result.rewritten:
        return ""
    kinds = ", ".join(f"{method} {count}" for method, count in sorted(result.rewritten.items()))
    return f" ({kinds})"
