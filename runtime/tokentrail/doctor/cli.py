"""`tokentrail doctor`: check the store, outbox, identity provider, configuration and libraries.

    tokentrail doctor [--store URL] [--import MODULE] [--format text|json]

Exit codes: 0 nothing is wrong (warnings may remain); 1 a problem was found (each says what to
do); 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from tokentrail._arguments import ArgumentParser, UsageError
from tokentrail.doctor._environment import (
    config_finding,
    genai_prices_finding,
    identity_finding,
    import_application,
    pydantic_ai_finding,
)
from tokentrail.doctor._finding import Finding
from tokentrail.doctor._outbox import outbox_findings
from tokentrail.doctor._store import resolve_store, store_findings

_STYLES = {"ok": "green", "info": "blue", "warning": "yellow", "problem": "bold red"}


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="tokentrail doctor",
        description="Check that this environment records usage, and say what to fix.",
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="check this store instead of the one the environment resolves",
    )
    parser.add_argument(
        "--import",
        dest="module",
        metavar="MODULE",
        help="import the application's module that calls tokentrail.configure(), to check the "
        "store and identity provider it sets",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def diagnose(store: str | None, module: str | None, start: Path) -> list[Finding]:
    """Run every check, in the order they are printed."""
    findings: list[Finding] = []
    configured = None
    imported = None
    if module is not None:
        configured, failure = import_application(module)
        if failure is None:
            imported = module
        else:
            findings.append(failure)
    resolved = resolve_store(store, configured)
    findings += store_findings(resolved)
    findings += outbox_findings(resolved)
    findings.append(identity_finding(imported))
    findings.append(config_finding(start))
    findings.append(pydantic_ai_finding())
    findings.append(genai_prices_finding())
    return findings


def _tally(findings: list[Finding]) -> str:
    problems = sum(finding.status == "problem" for finding in findings)
    warnings = sum(finding.status == "warning" for finding in findings)
    if not problems and not warnings:
        return "everything looks right"
    return (
        f"{problems} problem{'' if problems == 1 else 's'}, "
        f"{warnings} warning{'' if warnings == 1 else 's'}"
    )


def _write_plain(findings: list[Finding], out: TextIO) -> None:
    width = max(len(finding.check) for finding in findings)
    for finding in findings:
        out.write(f"{finding.status:<8} {finding.check:<{width}}  {finding.summary}\n")
        if finding.advice and finding.status != "ok":
            out.write(f"{'':<8} {'':<{width}}  -> {finding.advice}\n")
    out.write(_tally(findings) + "\n")


def _write_rich(findings: list[Finding], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="tokentrail doctor", show_lines=False, caption=_tally(findings))
    table.add_column("status", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("finding")
    for finding in findings:
        detail = Text(finding.summary)
        if finding.advice and finding.status != "ok":
            detail.append(f"\n→ {finding.advice}", style="italic")
        table.add_row(Text(finding.status, style=_STYLES[finding.status]), finding.check, detail)
    Console(file=out).print(table)


def _write_json(findings: list[Finding], out: TextIO) -> None:
    document = {
        "healthy": not any(finding.status == "problem" for finding in findings),
        "checks": [
            {
                "check": finding.check,
                "status": finding.status,
                "summary": finding.summary,
                "advice": finding.advice,
            }
            for finding in findings
        ],
    }
    out.write(json.dumps(document, indent=2) + "\n")


def main(argv: list[str]) -> int:
    """Print the checks `argv` asks for; return the exit code."""
    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except UsageError as error:
        print(f"{parser.format_usage().rstrip()}\nerror: {error}", file=sys.stderr)
        return 2

    findings = diagnose(arguments.store, arguments.module, Path.cwd())
    if arguments.format == "json":
        _write_json(findings, sys.stdout)
    elif sys.stdout.isatty():
        _write_rich(findings, sys.stdout)
    else:
        _write_plain(findings, sys.stdout)
    return 1 if any(finding.status == "problem" for finding in findings) else 0
