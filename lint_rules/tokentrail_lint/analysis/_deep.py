"""Running a recursive analysis on source nested deeper than Python's default limits allow.

The analysis walks syntax trees recursively. Ordinary code nests a few dozen levels, but a
generated module can chain hundreds of calls (`a.b().c().d()...`) in one expression; Python parses
that, and then a walk over it exceeds the interpreter's recursion limit. Raising the limit on the
main thread risks overflowing its C stack, so the retry runs on a thread of its own with a stack
large enough for the higher limit.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Final, TypeVar

_T = TypeVar("_T")

DEEP_RECURSION_LIMIT: Final = 20_000
_DEEP_STACK_BYTES: Final = 512 * 1024 * 1024
"""Virtual memory reserved for the thread's stack; only the pages a walk touches are used."""


def with_deep_recursion(function: Callable[[], _T]) -> _T:
    """`function()`, run on a thread with a large stack and a raised recursion limit.

    Raises what `function` raises, `RecursionError` included when even this is not deep enough.
    """
    outcome: list[_T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(function())
        except BaseException as error:  # noqa: BLE001 - handed back to the calling thread
            failure.append(error)

    previous_limit = sys.getrecursionlimit()
    previous_stack = threading.stack_size(_DEEP_STACK_BYTES)
    sys.setrecursionlimit(max(previous_limit, DEEP_RECURSION_LIMIT))
    try:
        worker = threading.Thread(target=run, name="tokentrail-deep-analysis")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_stack)
        sys.setrecursionlimit(previous_limit)
    if failure:
        raise failure[0]
    return outcome[0]
