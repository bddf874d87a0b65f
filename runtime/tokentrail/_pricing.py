"""Prices for records that pydantic-ai left unpriced, computed off the caller's path.

pydantic-ai 2.x prices most responses itself; older versions and unknown models leave the cost
empty. The tracker's background thread fills it in here with genai-prices at the run's own time,
and leaves it `None` (`cost_source="none"`) when no price is known: a record never guesses.
"""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from tokentrail._record import UsageRecord

logger = logging.getLogger(__name__)

_unknown_models: set[tuple[str, str]] = set()


def price_record(record: UsageRecord) -> UsageRecord:
    """`record` with its cost filled in from genai-prices where it was missing and is known."""
    if record.cost_usd is not None or (record.provider, record.model) in _unknown_models:
        return record
    cost = _genai_price(record)
    if cost is None:
        return record
    return dataclasses.replace(record, cost_usd=cost, cost_source="genai-prices")


def _genai_price(record: UsageRecord) -> Decimal | None:
    try:
        import genai_prices
    except ImportError:
        return None

    usage = _usage_for(genai_prices, record)
    provider = None if record.provider == "unknown" else record.provider
    try:
        calculation: Any = genai_prices.calc_price(
            usage,
            record.model,
            provider_id=provider,
            genai_request_timestamp=record.created_at,
        )
    except LookupError:
        _warn_unknown_once(record.provider, record.model)
        return None
    except Exception:  # a pricing bug costs a price, never a record
        logger.warning(
            "tokentrail: pricing %s/%s failed", record.provider, record.model, exc_info=True
        )
        return None
    total = calculation.total_price
    return total if isinstance(total, Decimal) else Decimal(str(total))


def _usage_for(genai_prices: Any, record: UsageRecord) -> Any:
    values = {
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "cache_read_tokens": record.cache_read_tokens,
        "cache_write_tokens": record.cache_write_tokens,
    }
    usage_type = getattr(genai_prices, "Usage", None)
    return usage_type(**values) if usage_type is not None else SimpleNamespace(**values)


def _warn_unknown_once(provider: str, model: str) -> None:
    key = (provider, model)
    if key in _unknown_models:
        return
    _unknown_models.add(key)
    logger.warning(
        "tokentrail: no price is known for model %r of provider %r; its records keep cost_usd "
        "NULL (cost_source 'none'). Add a custom price to record a cost.",
        model,
        provider,
    )
