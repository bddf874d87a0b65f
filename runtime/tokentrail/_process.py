"""Whether code still runs in the process that set something up, without a system call.

A tracker's worker thread and a journal's file belong to the process that made them; a forked
child must make its own. `os.getpid()` answers that, but it is a system call, and the tracked
run's path asks it for every record. A counter bumped in every forked child answers the same
question for the price of reading a variable.
"""

from __future__ import annotations

import os

_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_count_fork)


def generation() -> int:
    """A number that differs in a forked child from its value in the parent, and nowhere else."""
    return _forks
