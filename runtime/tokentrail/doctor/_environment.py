"""The application's side: its configuration file, identity provider and installed libraries.

Versions are read from the installed distributions' metadata, never by importing them:
`import pydantic_ai` alone takes most of a second.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from pathlib import Path

from tokentrail.doctor._finding import Finding


def config_finding(start: Path) -> Finding:
    """The `pyproject.toml` with a `[tool.tokentrail]` table above `start`, and whether it loads."""
    from tokentrail_lint.config import ConfigError, find_project_root, load_config

    root = find_project_root(start)
    pyproject = root / "pyproject.toml"
    try:
        declares = "[tool.tokentrail" in pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        declares = False
    if not declares:
        return Finding(
            "configuration",
            "info",
            f"no pyproject.toml with [tool.tokentrail] above {start}; defaults apply",
        )
    try:
        load_config(root)
    except ConfigError as error:
        return Finding(
            "configuration",
            "problem",
            error.message,
            f"fix {pyproject}; see docs/configuration.md for every key",
        )
    return Finding("configuration", "ok", f"{pyproject} ([tool.tokentrail] is valid)")


def import_application(module: str) -> tuple[str | None, Finding | None]:
    """Import the module that calls `tokentrail.configure(...)`, as the application does.

    Returns:
        The store URL it configured (if any), and a finding when the import failed.
    """
    if "" not in sys.path:
        sys.path.insert(0, "")  # as `python -m` does: the application's own package is found
    try:
        importlib.import_module(module)
    except Exception as error:  # noqa: BLE001 - any failure of the user's module is reported
        return None, Finding(
            "application",
            "problem",
            f"importing {module} failed: {type(error).__name__}: {error}",
            "run the doctor from the application's folder and environment",
        )
    from tokentrail._context import default_tracker

    tracker = default_tracker()
    store = getattr(tracker, "_store", None) if tracker is not None else None
    return (store if isinstance(store, str) else None), None


def identity_finding(imported: str | None) -> Finding:
    """Whether `configure(identity_provider=...)` was called, as far as this process can tell."""
    if imported is None:
        return Finding(
            "identity provider",
            "info",
            "not checked: it is set inside the application's process",
            "pass --import MODULE (the module that calls tokentrail.configure) to check it",
        )
    from tokentrail import _context

    # The doctor reads the process defaults that `configure` set; there is no public getter.
    provider = _context._defaults.identity_provider
    if provider is None:
        return Finding(
            "identity provider",
            "warning",
            f"{imported} configures none",
            "runs then take user and organization only from wrapper keywords or "
            "tracking_context(); configure(identity_provider=...) fills them everywhere else",
        )
    name = getattr(provider, "__qualname__", type(provider).__qualname__)
    return Finding(
        "identity provider",
        "ok",
        f"{getattr(provider, '__module__', '?')}.{name} (set by {imported})",
    )


def _installed(*names: str) -> tuple[str, str] | None:
    for name in names:
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def pydantic_ai_finding() -> Finding:
    """The installed pydantic-ai (slim or full), which the wrappers need at 1.0 or later."""
    found = _installed("pydantic-ai-slim", "pydantic-ai")
    if found is None:
        return Finding(
            "pydantic-ai",
            "problem",
            "not installed in this environment",
            "install pydantic-ai-slim >= 1.0 (run the doctor in the application's environment)",
        )
    name, version = found
    major = version.split(".", 1)[0]
    if major.isdigit() and int(major) < 1:
        return Finding(
            "pydantic-ai",
            "problem",
            f"{name} {version} is older than 1.0",
            "upgrade: pip install 'pydantic-ai-slim>=1.0'",
        )
    return Finding("pydantic-ai", "ok", f"{name} {version}")


def genai_prices_finding() -> Finding:
    """genai-prices, which prices the records pydantic-ai left without a cost."""
    found = _installed("genai-prices")
    if found is None:
        return Finding(
            "genai-prices",
            "warning",
            "not installed: records pydantic-ai does not price keep an unknown cost",
            "pip install genai-prices (pydantic-ai-slim usually brings it)",
        )
    return Finding("genai-prices", "ok", f"genai-prices {found[1]}")
