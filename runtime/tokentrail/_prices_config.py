"""Reading custom prices from `[tool.tokentrail.prices]` or a `configure(prices=...)` mapping.

Both sources have one shape, so a table can move from code to `pyproject.toml` unchanged:

```toml
[tool.tokentrail.prices.aliases]
prod-gpt4o = "gpt-4o"

[[tool.tokentrail.prices.models]]
provider = "openai"
model = "gpt-4o*"
since = 2026-01-01
input = "2.50"
output = "10.00"
```

Every mistake raises `PriceConfigError` naming the key (`tool.tokentrail.prices.models[1].input`),
so a typo in a price never turns into a silently wrong bill. Standard library only: the checker
validates the same table with this module.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from tokentrail._prices import CustomPrice, ModelAlias, PriceTable

CONFIG_ENVIRONMENT: Final = "TOKENTRAIL_CONFIG"
"""Names the TOML file to read `[tool.tokentrail]` from, instead of searching for one."""

_TABLE_KEYS: Final = ("models", "aliases")
_PRICE_FIELDS: Final[Mapping[str, str]] = {
    "provider": "provider",
    "model": "model",
    "since": "since",
    "input": "input",
    "output": "output",
    "cache-read": "cache_read",
    "cache-write": "cache_write",
    "per-request": "per_request",
}
_RATE_FIELDS: Final = frozenset({"input", "output", "cache-read", "cache-write", "per-request"})
_ALIAS_FIELDS: Final = ("model", "provider")


class PriceConfigError(ValueError):
    """Custom prices that cannot be used; the message names the key and says what to write.

    Attributes:
        key: the full key at fault, such as `tool.tokentrail.prices.models[1].input`.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


def parse_price_table(data: object, where: str = "prices") -> PriceTable:
    """Check `data` (the `prices` table's shape) and build the `PriceTable` it describes.

    Args:
        data: a mapping with optional `models` (a list of price tables) and `aliases` (a table
            of deployment name -> model name or `{model, provider}`).
        where: the key `data` was found under, used in error messages.

    Raises:
        PriceConfigError: a key is unknown, a value has the wrong type, a rate is negative or
            not a number, a date is not a date, or two prices say the same thing.
    """
    table = _mapping(data, where)
    _reject_unknown(table, _TABLE_KEYS, where)
    models = table.get("models", [])
    if not isinstance(models, list):
        raise PriceConfigError(f"{where}.models", f"must be a list of tables, not {_shown(models)}")
    prices = tuple(_price(item, f"{where}.models[{index}]") for index, item in enumerate(models))
    _reject_duplicates(prices, where)
    aliases = _aliases(table.get("aliases", {}), f"{where}.aliases")
    return PriceTable(prices=prices, aliases=aliases)


def _price(data: object, where: str) -> CustomPrice:
    entry = _mapping(data, where)
    values: dict[str, Any] = {}
    for written, value in entry.items():
        name = written.replace("_", "-")
        _reject_unknown({written: value}, tuple(_PRICE_FIELDS), where)
        key = f"{where}.{written}"
        if _PRICE_FIELDS[name] in values:
            raise PriceConfigError(key, "is given twice (with - and _); keep one spelling")
        if name in _RATE_FIELDS:
            values[_PRICE_FIELDS[name]] = _rate(value, key)
        elif name == "since":
            values["since"] = _day(value, key)
        else:
            values[name] = _pattern(value, key)
    for required in ("model", "input", "output"):
        if required not in values:
            raise PriceConfigError(f"{where}.{required}", "is required")
    return CustomPrice(**values)


def _aliases(data: object, where: str) -> Mapping[str, ModelAlias]:
    table = _mapping(data, where)
    aliases: dict[str, ModelAlias] = {}
    for name, target in table.items():
        key = f"{where}.{name}"
        if isinstance(target, str):
            aliases[name] = ModelAlias(model=_pattern(target, key))
            continue
        entry = _mapping(target, key, expected='a model name or a table {model = "..."}')
        _reject_unknown(entry, _ALIAS_FIELDS, key)
        if "model" not in entry:
            raise PriceConfigError(f"{key}.model", "is required")
        provider = entry.get("provider")
        aliases[name] = ModelAlias(
            model=_pattern(entry["model"], f"{key}.model"),
            provider=None if provider is None else _pattern(provider, f"{key}.provider"),
        )
    for name, alias in aliases.items():
        if alias.model in aliases:
            raise PriceConfigError(
                f"{where}.{name}",
                f"points to {alias.model!r}, which is itself an alias; point it to the model "
                f"{alias.model!r} stands for",
            )
    return MappingProxyType(aliases)


def _reject_duplicates(prices: tuple[CustomPrice, ...], where: str) -> None:
    seen: dict[tuple[str, str, date | None], int] = {}
    for index, price in enumerate(prices):
        identity = (price.provider, price.model, price.since)
        if identity in seen:
            since = "the beginning" if price.since is None else price.since.isoformat()
            raise PriceConfigError(
                f"{where}.models[{index}]",
                f"repeats models[{seen[identity]}] (provider {price.provider!r}, model "
                f"{price.model!r}, since {since}); keep one",
            )
        seen[identity] = index


def _mapping(data: object, key: str, expected: str = "a table") -> Mapping[str, Any]:
    if not isinstance(data, Mapping) or not all(isinstance(name, str) for name in data):
        raise PriceConfigError(key, f"must be {expected}, not {_shown(data)}")
    return data


def _reject_unknown(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for name in table:
        if name.replace("_", "-") not in known:
            raise PriceConfigError(
                f"{where}.{name}", f"is not a known key; known keys: {', '.join(known)}"
            )


def _rate(value: object, key: str) -> Decimal:
    problem = "must be a number of US dollars (per million tokens, or per request), such as '2.50'"
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise PriceConfigError(key, f"{problem}, not {_shown(value)}")
    try:
        # repr() of a float is its shortest exact spelling: 2.5 becomes Decimal('2.5').
        rate = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise PriceConfigError(key, f"{problem}, not {value!r}") from None
    if not rate.is_finite() or rate < 0:
        raise PriceConfigError(
            key, f"must be a finite, non-negative number of US dollars, not {value!r}"
        )
    return rate


def _day(value: object, key: str) -> date:
    problem = "must be a date such as 2026-01-01 (prices start on whole UTC days)"
    if isinstance(value, datetime):
        raise PriceConfigError(key, f"{problem}, not the time {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PriceConfigError(key, f"{problem}, not {_shown(value)}")


def _pattern(value: object, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PriceConfigError(key, f"must be a non-empty string, not {_shown(value)}")
    return value


def _shown(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def find_config_file(start: Path | None = None) -> Path | None:
    """The TOML file whose `[tool.tokentrail]` table the runtime reads, if there is one.

    `TOKENTRAIL_CONFIG` names it explicitly; otherwise it is the nearest `pyproject.toml` that
    has a `[tool.tokentrail]` table, searched upward from `start` (default: the current
    directory), as the checker finds a project's root.
    """
    explicit = os.environ.get(CONFIG_ENVIRONMENT)
    if explicit:
        return Path(explicit)
    directory = (start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        try:
            text = candidate.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if "[tool.tokentrail" in text:
            return candidate
    return None


def load_price_file(path: Path) -> PriceTable:
    """The custom prices in `path`'s `[tool.tokentrail.prices]`; an empty table if it has none.

    Raises:
        PriceConfigError: the file cannot be read, is not TOML, or its prices are invalid; the
            key names the file.
    """
    try:
        with path.open("rb") as stream:
            # Numbers become Decimal as written, never passing through a float.
            document = tomllib.load(stream, parse_float=Decimal)
    except OSError as error:
        raise PriceConfigError(str(path), f"cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise PriceConfigError(str(path), f"is not valid TOML ({error})") from None
    tool = document.get("tool", {})
    settings = tool.get("tokentrail", {}) if isinstance(tool, dict) else {}
    if not isinstance(settings, dict) or "prices" not in settings:
        return PriceTable()
    return parse_price_table(settings["prices"], f"{path}: tool.tokentrail.prices")


def price_table_from(value: PriceTable | Mapping[str, Any]) -> PriceTable:
    """A `configure(prices=...)` argument as a checked `PriceTable`.

    Raises:
        PriceConfigError: the mapping is invalid (the key starts with `prices`).
        TypeError: `value` is neither a `PriceTable` nor a mapping.
    """
    if isinstance(value, PriceTable):
        return parse_price_table(_as_mapping(value))
    if isinstance(value, Mapping):
        return parse_price_table(value)
    raise TypeError(
        f"configure(prices=...) takes a PriceTable or a mapping shaped like "
        f"[tool.tokentrail.prices], not {type(value).__name__}"
    )


def _as_mapping(table: PriceTable) -> dict[str, Any]:
    # A typed table goes through the same checks as a mapping, so both fail alike.
    models = [
        {
            name: getattr(price, attribute)
            for name, attribute in _PRICE_FIELDS.items()
            if getattr(price, attribute) is not None
        }
        for price in table.prices
    ]
    aliases = {
        name: {"model": alias.model}
        if alias.provider is None
        else {"model": alias.model, "provider": alias.provider}
        for name, alias in table.aliases.items()
    }
    return {"models": models, "aliases": aliases}
