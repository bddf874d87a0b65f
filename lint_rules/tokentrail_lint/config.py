"""The `[tool.tokentrail]` settings, and where a project's root is.

Every key is documented in `docs/configuration.md`. A misspelt key is an error that names the key:
a setting that silently does nothing is worse than a failing hook.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

DEFAULT_LINE_LENGTH: Final = 88
DEFAULT_EXCLUDE: Final[tuple[str, ...]] = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tokentrail",
    ".tox",
    ".venv",
    "__pypackages__",
    "__pycache__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)
"""Directory and file names never analysed, as ruff's defaults (`exclude` replaces them)."""


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


class ConfigError(Exception):
    """The configuration cannot be used: unknown key, wrong type, or unreadable TOML.

    Attributes:
        key: The offending key as written (`None` when the file as a whole is at fault).
        message: What went wrong, where, and what to do; also `str(error)`.
        path: The configuration file, when there is one.
    """

    def __init__(self, message: str, *, key: str | None = None, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.path = path


@dataclass(frozen=True)
class Config:
    """Settings from `[tool.tokentrail]`, with defaults for everything left out.

    Dotted names (`agent_types`, `agent_factories`, `wrappers`, override keys) are import paths
    as the project imports them, e.g. `myapp.llm.make_agent`.
    """

    agent_types: frozenset[str] = frozenset()
    """Classes besides pydantic-ai's `Agent`/`WrapperAgent` whose instances are agents."""
    agent_factories: frozenset[str] = frozenset()
    """Functions returning an agent, for factories the analysis cannot see into (no annotation)."""
    wrappers: frozenset[str] = frozenset()
    """Project functions that track runs themselves; their calls count as tracked."""
    include: tuple[str, ...] = ("*.py", "*.pyi")
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    per_file_ignores: Mapping[str, frozenset[str]] = field(
        default_factory=_empty_mapping, hash=False
    )
    """Glob (relative to the root, like ruff's) -> codes ignored in matching files."""
    select: frozenset[str] | None = None
    """Codes to report; `None` means each code's default (CONTRACT §5)."""
    extend_select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    tool_name: Literal["module", "class"] = "module"
    tool_name_overrides: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)
    """Dotted class or function name -> `tool_name=` literal."""
    operation_overrides: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)
    """Dotted method or function name -> `operation=` literal."""
    setup_import: str = "tokentrail"
    """Where the caller plumbing imports its setup function from: a module that provides
    `setup_tracking_context`, or `module:function` for a project's own helper."""
    identity_function: str | None = None
    """`module:function` returning `(user_id, organization_id)` for the current request or
    session; the caller plumbing binds it at the top of pages that use tracked services."""
    line_length: int = DEFAULT_LINE_LENGTH
    """From `[tool.tokentrail]`, else ruff's, else black's `line-length`, else 88."""
    prices: Mapping[str, Any] = field(default_factory=_empty_mapping, hash=False)
    """`[tool.tokentrail.prices]`, checked here and used by the runtime (see docs/prices.md)."""
    source: Path | None = None
    """The `pyproject.toml` the settings came from (`None`: defaults only)."""

    @property
    def agent_type_names(self) -> frozenset[str]:
        """The last components of `agent_types`, which the text prefilter looks for."""
        return frozenset(name.rpartition(".")[2] for name in self.agent_types)


def find_project_root(path: Path) -> Path:
    """Return the root that `path` belongs to (CONTRACT §3).

    The directory of the nearest `pyproject.toml` with a `[tool.tokentrail]` table, searched
    upward; else the nearest directory holding `.git`; else the current directory.
    """
    start = Path(os.path.abspath(path))
    directories = [start, *start.parents] if start.is_dir() else list(start.parents)
    for directory in directories:
        if _declares_tokentrail(directory / "pyproject.toml"):
            return directory
    for directory in directories:
        if (directory / ".git").exists():
            return directory
    return Path.cwd()


def _declares_tokentrail(pyproject: Path) -> bool:
    # A text search, not a TOML parse: the walk must be cheap, and a broken file that declares
    # the table is still the root (load_config then names the error).
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "[tool.tokentrail" in text


def load_config(root: Path) -> Config:
    """Read `root/pyproject.toml` (and `ruff.toml` for the line length) into a `Config`.

    Raises:
        ConfigError: unreadable or broken TOML, an unknown key, or a value of the wrong type.
    """
    pyproject = root / "pyproject.toml"
    document = _read_toml(pyproject) if pyproject.is_file() else {}
    tool = _table(document.get("tool", {}), "tool", pyproject)
    settings = _table(tool.get("tokentrail", {}), "tool.tokentrail", pyproject)

    values: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for written_key, value in settings.items():
        key = written_key.replace("_", "-")
        parser = _PARSERS.get(key)
        if parser is None:
            raise ConfigError(
                _unknown_key_message(written_key, pyproject), key=written_key, path=pyproject
            )
        if key in seen:
            raise ConfigError(
                f"{pyproject}: [tool.tokentrail] sets {seen[key]!r} and {written_key!r}, which "
                "are the same setting; keep one.",
                key=written_key,
                path=pyproject,
            )
        seen[key] = written_key
        values[key.replace("-", "_")] = parser(value, f"tool.tokentrail.{written_key}", pyproject)

    if "line_length" not in values:
        values["line_length"] = _formatter_line_length(root, tool, pyproject)
    return Config(**values, source=pyproject if pyproject.is_file() else None)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror}).", path=path) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{path}: is not valid TOML ({error}); fix the file and run again.", path=path
        ) from error
    except UnicodeDecodeError as error:  # TOML files are UTF-8; tomllib lets this escape
        raise ConfigError(
            f"{path}: is not valid TOML (not UTF-8 at byte {error.start}); save it as UTF-8 "
            "and run again.",
            path=path,
        ) from error


def _formatter_line_length(root: Path, tool: dict[str, Any], pyproject: Path) -> int:
    for name in ("ruff.toml", ".ruff.toml"):
        ruff_file = root / name
        if ruff_file.is_file():
            length = _read_toml(ruff_file).get("line-length")
            if length is not None:
                return _positive_int(length, f"{name}: line-length", ruff_file)
    for section in ("ruff", "black"):
        table = tool.get(section)
        if isinstance(table, dict) and table.get("line-length") is not None:
            return _positive_int(table["line-length"], f"tool.{section}.line-length", pyproject)
    return DEFAULT_LINE_LENGTH


def _unknown_key_message(key: str, path: Path) -> str:
    import difflib  # only on this error path

    known = sorted(_PARSERS)
    close = difflib.get_close_matches(key.replace("_", "-"), known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (
        f"{path}: unknown key {key!r} in [tool.tokentrail].{hint} Known keys: {', '.join(known)}."
    )


def _type_error(key: str, path: Path, expected: str, value: object) -> ConfigError:
    return ConfigError(
        f"{path}: {key} must be {expected}, not {type(value).__name__} {value!r}.",
        key=key.rpartition(".")[2],
        path=path,
    )


def _table(value: object, key: str, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _type_error(key, path, "a table", value)
    return value


def _strings(value: object, key: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _type_error(key, path, "a list of strings", value)
    return tuple(value)


def _string_set(value: object, key: str, path: Path) -> frozenset[str]:
    return frozenset(_strings(value, key, path))


def _codes(value: object, key: str, path: Path) -> frozenset[str]:
    return frozenset(code.strip().upper() for code in _strings(value, key, path))


def _positive_int(value: object, key: str, path: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _type_error(key, path, "a positive integer", value)
    return value


def _boolean(value: object, key: str, path: Path) -> bool:
    if not isinstance(value, bool):
        raise _type_error(key, path, "true or false", value)
    return value


def _string(value: object, key: str, path: Path) -> str:
    if not isinstance(value, str) or not value:
        raise _type_error(key, path, "a non-empty string", value)
    return value


def _import_target(value: object, key: str, path: Path) -> str:
    """`package.module` or `package.module:function`, checked for shape only (never imported)."""
    text = _string(value, key, path)
    module, _, function = text.partition(":")
    parts = [*module.split("."), *([function] if function or ":" in text else [])]
    if not all(part.isidentifier() for part in parts):
        raise _type_error(key, path, 'a dotted module name, optionally ":function"', value)
    return text


def _identity_function(value: object, key: str, path: Path) -> str:
    text = _import_target(value, key, path)
    if ":" not in text:
        raise _type_error(key, path, '"package.module:function"', value)
    return text


def _tool_name_style(value: object, key: str, path: Path) -> str:
    if value not in ("module", "class"):
        raise _type_error(key, path, '"module" or "class"', value)
    return str(value)


def _string_mapping(value: object, key: str, path: Path) -> Mapping[str, str]:
    table = _table(value, key, path)
    for name, item in table.items():
        if not isinstance(item, str):
            raise _type_error(f"{key}.{name}", path, "a string", item)
    return MappingProxyType(dict(table))


def _per_file_ignores(value: object, key: str, path: Path) -> Mapping[str, frozenset[str]]:
    table = _table(value, key, path)
    return MappingProxyType(
        {pattern: _codes(codes, f"{key}.{pattern}", path) for pattern, codes in table.items()}
    )


def _prices(value: object, key: str, path: Path) -> Mapping[str, Any]:
    """Custom prices, checked by the runtime's own stdlib-only validator (no pydantic-ai)."""
    from tokentrail._prices_config import PriceConfigError, parse_price_table

    try:
        parse_price_table(value, key)
    except PriceConfigError as error:
        raise ConfigError(f"{path}: {error}.", key=error.key, path=path) from None
    return MappingProxyType(dict(_table(value, key, path)))


_PARSERS: Final[dict[str, Callable[[object, str, Path], object]]] = {
    "agent-types": _string_set,
    "agent-factories": _string_set,
    "wrappers": _string_set,
    "include": _strings,
    "exclude": _strings,
    "extend-exclude": _strings,
    "respect-gitignore": _boolean,
    "per-file-ignores": _per_file_ignores,
    "select": _codes,
    "extend-select": _codes,
    "ignore": _codes,
    "tool-name": _tool_name_style,
    "tool-name-overrides": _string_mapping,
    "operation-overrides": _string_mapping,
    "setup-import": _import_target,
    "identity-function": _identity_function,
    "line-length": _positive_int,
    "prices": _prices,
}
