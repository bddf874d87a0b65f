"""Pricing records off the caller's path: custom prices first, then genai-prices.

The tracker's background thread (or the outbox's sender) calls `price_record` for each record
without a cost, and for every record while `may_override_costs()`. The order is what a billing
team expects:

1. The record's model name goes through the aliases (`prod-gpt4o` -> `gpt-4o`).
2. A custom price in force on the record's day wins over everything, including the cost
   pydantic-ai put on the response: `cost_source="override"`.
3. A record pydantic-ai priced keeps that cost (`"pydantic-ai"`).
4. Otherwise genai-prices prices it at the run's own time (`"genai-prices"`).
5. Otherwise the cost stays `None` (`"none"`) and a WARNING names the model once: a record
   never carries a guessed cost.

Custom prices come from `configure(prices=...)`, else from the `[tool.tokentrail.prices]` table
of the configuration file, read once, here on the background thread. A broken file is announced
once at WARNING and ignored rather than breaking the application.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import UTC, date, datetime, time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from tokentrail._prices import PriceTable, TokenCounts, cost_of
from tokentrail._prices_config import PriceConfigError, find_config_file, load_price_file
from tokentrail._record import CostSource, UsageRecord
from tokentrail._warnings import warn_limited

logger = logging.getLogger(__name__)


class _PriceSource:
    """The custom prices in effect for this process, loaded on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.table: PriceTable | None = None
        # Until the table is known to be empty, records pydantic-ai priced may still be
        # overridden, so they are handed to the background thread too.
        self.may_override = True
        self.unknown_models: set[tuple[str, str]] = set()


_source = _PriceSource()


def set_custom_prices(table: PriceTable) -> None:
    """Use `table` from now on instead of the configuration file's prices."""
    with _source.lock:
        _source.table = table
        _source.may_override = bool(table)
        # A model unknown before may have a price now.
        _source.unknown_models.clear()


def custom_prices() -> PriceTable:
    """The configured custom prices; reads the configuration file the first time."""
    with _source.lock:
        if _source.table is None:
            _source.table = _prices_from_file()
            _source.may_override = bool(_source.table)
        return _source.table


def _prices_from_file() -> PriceTable:
    path = find_config_file()
    if path is None:
        return PriceTable()
    try:
        table = load_price_file(path)
    except PriceConfigError as error:
        logger.warning(
            "tokentrail: ignoring the custom prices of %s: %s. Records are priced by "
            "genai-prices until this is fixed; `tokentrail report --reprice` recomputes costs "
            "afterwards.",
            path.name,
            error,
        )
        return PriceTable()
    if table:
        logger.info(
            "tokentrail: %d custom price(s) and %d model alias(es) from %s",
            len(table.prices),
            len(table.aliases),
            path,
        )
    return table


def may_override_costs() -> bool:
    """Whether records that carry a cost may still get a custom price; a flag read, hot-path safe.

    True until the price table is known to be empty, so the tracker hands priced records to
    the background thread too, where `price_record` decides.
    """
    return _source.may_override


def may_price(provider: str, model: str, *, has_cost: bool) -> bool:
    """Whether pricing could change a record of this provider and model; hot-path safe.

    False for a record that has its cost while no custom price can replace it, and for a model
    genai-prices has already been found not to know while there are no custom prices (which
    could name it through an alias): handing such records to the background thread only costs
    the callers the interpreter time it takes there.
    """
    if _source.may_override:
        return True
    return not has_cost and (provider, model) not in _source.unknown_models


def price_record(record: UsageRecord) -> UsageRecord:
    """`record` with its cost as the price table says; the same object when nothing changes.

    A cost the caller set itself (`tracker.track(...)` with a cost, `cost_source="override"`)
    is kept: it is already an override.
    """
    if record.cost_source == "override" and record.cost_usd is not None:
        return record
    provider, model = custom_prices().resolve(record.provider, record.model)
    cost, source = price_tokens(
        provider, model, record.created_at, _tokens_of(record), priced=record.cost_usd
    )
    if cost is None or (cost, source) == (record.cost_usd, record.cost_source):
        return record
    return dataclasses.replace(record, cost_usd=cost, cost_source=source)


def price_tokens(
    provider: str,
    model: str,
    at: datetime | date,
    tokens: TokenCounts,
    *,
    priced: Decimal | None = None,
    table: PriceTable | None = None,
) -> tuple[Decimal | None, CostSource]:
    """The cost of `tokens` on `model` at moment `at`, and where it comes from.

    Args:
        provider: the provider, after aliases.
        model: the model, after aliases.
        at: when the tokens were spent; prices in force then apply.
        tokens: what to price (one record's counts, or a sum: prices are linear).
        priced: the cost pydantic-ai already put on the response, kept unless a custom price
            applies.
        table: the custom prices to use instead of the configured ones.
    """
    custom = (table if table is not None else custom_prices()).price_for(provider, model, at)
    if custom is not None:
        return cost_of(custom, tokens), "override"
    if priced is not None:
        return priced, "pydantic-ai"
    cost = genai_price(provider, model, at, tokens)
    return (cost, "genai-prices") if cost is not None else (None, "none")


def _tokens_of(record: UsageRecord) -> TokenCounts:
    return TokenCounts(
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cache_write_tokens=record.cache_write_tokens,
        requests=record.requests,
    )


def genai_price(
    provider: str, model: str, at: datetime | date, tokens: TokenCounts
) -> Decimal | None:
    """genai-prices' list price for `tokens`, or `None` when unknown or not installed."""
    if (provider, model) in _source.unknown_models:
        return None
    try:
        import genai_prices
    except ImportError:
        return None

    try:
        calculation: Any = genai_prices.calc_price(
            _genai_usage(genai_prices, tokens),
            model,
            provider_id=None if provider == "unknown" else provider,
            genai_request_timestamp=at if isinstance(at, datetime) else _midnight(at),
        )
    except LookupError:
        _warn_unknown_once(provider, model)
        return None
    except Exception as error:  # noqa: BLE001 - a pricing bug costs a price, never a record
        warn_limited(
            logger,
            f"price-failed:{provider}/{model}",
            "tokentrail: pricing %s/%s failed (%s: %s); the record keeps cost_usd NULL",
            provider,
            model,
            type(error).__name__,
            error,
        )
        return None
    total = calculation.total_price
    return total if isinstance(total, Decimal) else Decimal(str(total))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _genai_usage(genai_prices: Any, tokens: TokenCounts) -> Any:
    values = {
        "input_tokens": tokens.input_tokens,
        "output_tokens": tokens.output_tokens,
        "cache_read_tokens": tokens.cache_read_tokens,
        "cache_write_tokens": tokens.cache_write_tokens,
    }
    usage_type = getattr(genai_prices, "Usage", None)
    return usage_type(**values) if usage_type is not None else SimpleNamespace(**values)


def _warn_unknown_once(provider: str, model: str) -> None:
    key = (provider, model)
    if key in _source.unknown_models:
        return
    _source.unknown_models.add(key)
    logger.warning(
        "tokentrail: no price is known for model %r of provider %r; its records keep cost_usd "
        "NULL (cost_source 'none'). Add a custom price or a model alias "
        "([tool.tokentrail.prices]) to record a cost.",
        model,
        provider,
    )
