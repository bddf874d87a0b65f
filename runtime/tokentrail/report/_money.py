"""Dollar amounts as a reader expects them: cents for real money, more digits for small sums.

Token costs are often fractions of a cent, so a fixed two decimals would show most operations as
free. Amounts of a dollar or more get cents; smaller ones keep four decimals; anything smaller
than that reads as "under", never as zero.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Final

_SMALLEST_SHOWN: Final = Decimal("0.0001")


def format_usd(amount: Decimal | None) -> str:
    """`amount` as `$1,234.56`, `$0.0185` or `<$0.0001`; `unknown` when there is none."""
    if amount is None:
        return "unknown"
    if amount == 0:
        return "$0.00"
    if amount >= 1:
        return f"${amount:,.2f}"
    if amount < _SMALLEST_SHOWN:
        return f"<${_SMALLEST_SHOWN}"
    return f"${amount:.4f}"


def format_axis_usd(value: float, step: float) -> str:
    """A tick label: as many decimals as the tick step needs, and at least cents."""
    decimals = max(2, -math.floor(math.log10(step))) if step > 0 else 2
    return f"${value:,.{decimals}f}"


def nice_ticks(largest: float, count: int = 4) -> list[float]:
    """Round tick values from 0 up to at least `largest`, about `count` steps of 1, 2 or 5.

    A chart whose largest value is 0 still gets an axis (0 to 1), so it does not collapse.
    """
    if largest <= 0:
        largest = 1.0
    rough = largest / count
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(
        multiple * magnitude for multiple in (1, 2, 2.5, 5, 10) if multiple * magnitude >= rough
    )
    steps = math.ceil(largest / step - 1e-9)
    return [round(index * step, 12) for index in range(steps + 1)]
