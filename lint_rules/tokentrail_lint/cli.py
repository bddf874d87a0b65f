"""`tokentrail check`: report agent runs that are not tracked.

Exit codes (CONTRACT §3): 0 clean; 1 a finding at or above `--fail-on` (errors by default, so
warnings and infos are shown but do not fail unless `--fail-on warning` or `--fail-on info` is
given); 2 a file that cannot be read or parsed, or a usage or configuration error. 2 wins over 1.
`--fix` exits 0 only if nothing remains after the codemod ran.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokentrail_lint import _output
from tokentrail_lint.analysis.model import FileAnalysis
from tokentrail_lint.baseline import BaselineError, load_baseline, without_baselined, write_baseline
from tokentrail_lint.engine import RuleSettings, check_files
from tokentrail_lint.findings import Finding, Severity
from tokentrail_lint.formats import RENDERERS, ReportContext
from tokentrail_lint.rules import RESERVED_CODES, RULES_BY_CODE

if TYPE_CHECKING:
    from tokentrail_lint.config import Config

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2


class UsageError(Exception):
    """A flag or setting the user has to correct; the message names it."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokentrail check",
        description="Report pydantic-ai agent runs that are not tracked by tokentrail.",
        epilog="Exit codes: 0 clean, 1 findings, 2 unparsable file or usage error.",
    )
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--fix", action="store_true", help="apply the codemod to PATHs first")
    parser.add_argument("--baseline", type=Path, metavar="FILE", help="hide findings in FILE")
    parser.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="record current findings in FILE"
    )
    parser.add_argument(
        "--select", metavar="CODES", help="run exactly these codes (replaces the configuration)"
    )
    parser.add_argument(
        "--extend-select", default="", metavar="CODES", help="also run these codes, e.g. TT002"
    )
    parser.add_argument("--ignore", default="", metavar="CODES", help="do not run these codes")
    parser.add_argument(
        "--fail-on",
        choices=["error", "warning", "info"],
        default="error",
        help="lowest severity that makes the exit code 1 (default: error)",
    )
    return parser


def _known(codes: Iterable[str], where: str) -> frozenset[str]:
    normalized = frozenset(code.strip().upper() for code in codes if code.strip())
    for code in sorted(normalized):
        if code not in RULES_BY_CODE and code not in RESERVED_CODES:
            known = ", ".join(sorted(RULES_BY_CODE))
            raise UsageError(f"{where}: unknown code {code!r} (known codes: {known})")
    return normalized


def _settings(arguments: argparse.Namespace, config: Config) -> RuleSettings:
    """Combine `[tool.tokentrail]` with the flags; the flags' `--select` replaces the file's."""
    select: frozenset[str] | None
    if arguments.select is not None:
        select = _known(arguments.select.split(","), "--select")
    elif config.select is not None:
        select = _known(config.select, "tool.tokentrail.select")
    else:
        select = None
    extend_select = _known(config.extend_select, "tool.tokentrail.extend-select") | _known(
        arguments.extend_select.split(","), "--extend-select"
    )
    ignore = _known(config.ignore, "tool.tokentrail.ignore") | _known(
        arguments.ignore.split(","), "--ignore"
    )
    for pattern, codes in config.per_file_ignores.items():
        _known(codes, f"tool.tokentrail.per-file-ignores.{pattern!r}")
    return RuleSettings.from_selection(select, extend_select, ignore)


@dataclass(frozen=True, slots=True)
class _Checked:
    root: Path
    files: list[FileAnalysis]
    findings: list[Finding]


def _analyse_and_check(
    paths: Sequence[Path], root: Path, config: Config, settings: RuleSettings
) -> _Checked:
    from tokentrail_lint.analysis import analyze
    from tokentrail_lint.files import ignored_codes

    project = analyze(list(paths), root=root, config=config)
    findings = check_files(
        project.files, root, settings, lambda path: ignored_codes(path, root, config)
    )
    return _Checked(root, project.files, findings)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _apply_codemod(paths: Sequence[Path], root: Path, config: Config) -> None:
    """Run the codemod on `paths`, importing it (and libcst) only now."""
    from tokentrail_codemods import apply

    result = apply(list(paths), write=True, root=root, config=config)
    for error in result.errors:
        print(f"error: --fix left {error.path} untouched: {error.message}", file=sys.stderr)
    calls = _plural(sum(result.rewritten.values()), "agent run")
    print(f"Fixed {calls} in {_plural(len(result.changed), 'file')}.", file=sys.stderr)


def _exit_code(checked: _Checked, findings: Sequence[Finding], fail_on: Severity) -> int:
    if any(file.error is not None for file in checked.files):
        return EXIT_ERROR
    if any(finding.severity.rank >= fail_on.rank for finding in findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _summary(findings: Sequence[Finding], hidden: int) -> str:
    if not findings:
        text = "All checks passed."
    else:
        counts = dict.fromkeys((Severity.ERROR, Severity.WARNING, Severity.INFO), 0)
        for finding in findings:
            counts[finding.severity] += 1
        parts = [
            f"{count} info" if severity is Severity.INFO else _plural(count, severity.value)
            for severity, count in counts.items()
            if count
        ]
        text = f"Found {_plural(len(findings), 'finding')} ({', '.join(parts)})."
    if hidden:
        text += f" {hidden} more hidden by the baseline."
    return text + "\n"


def _report_unparsable(files: Sequence[FileAnalysis], context: ReportContext) -> None:
    """Name every file that could not be read or parsed on stderr, whatever the format."""
    for file in files:
        if file.error is not None:
            print(f"error: {context.display_path(file.path)}: {file.error}", file=sys.stderr)


def _run(arguments: argparse.Namespace) -> int:
    from tokentrail_lint.config import ConfigError, find_project_root, load_config

    fail_on = Severity(arguments.fail_on)
    paths: list[Path] = arguments.paths
    for path in paths:
        if not path.exists():
            raise UsageError(f"PATH: {path} does not exist")
    try:
        root = find_project_root(paths[0])
        config = load_config(root)
        settings = _settings(arguments, config)
        fingerprints = (
            load_baseline(arguments.baseline) if arguments.baseline is not None else frozenset()
        )
        if arguments.fix:
            _apply_codemod(paths, root, config)
        checked = _analyse_and_check(paths, root, config, settings)
    except (ConfigError, BaselineError) as error:
        raise UsageError(str(error)) from error

    context = ReportContext(root=checked.root, cwd=Path.cwd())
    _report_unparsable(checked.files, context)
    if arguments.write_baseline is not None:
        count = write_baseline(arguments.write_baseline, checked.findings)
        print(f"Wrote {count} findings to {arguments.write_baseline}.", file=sys.stderr)
        return EXIT_ERROR if any(file.error for file in checked.files) else EXIT_CLEAN

    findings, hidden = without_baselined(checked.findings, fingerprints)
    report = RENDERERS[arguments.format](findings, context)
    if arguments.format == "text":
        _output.write(report + _summary(findings, hidden), highlight=True)
    else:
        _output.write(report)
    return _exit_code(checked, findings, fail_on)


def main(argv: Sequence[str]) -> int:
    """Run `tokentrail check` with `argv` (without the subcommand) and return the exit code."""
    try:
        arguments = _parser().parse_args(list(argv))
    except SystemExit as exit_request:
        return EXIT_CLEAN if exit_request.code in (0, None) else EXIT_ERROR
    try:
        return _run(arguments)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
