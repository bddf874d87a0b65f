"""Text edits on one file, applied together so that their offsets all refer to the original."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `text[start:end]` with `text` (`start == end` inserts)."""

    start: int
    end: int
    text: str
    order: int = 0
    """Breaks ties between insertions at one offset: lower goes first."""


class OverlappingEditsError(Exception):
    """Two edits touch the same characters; the file is left unchanged."""


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits to `text`.

    Raises:
        OverlappingEditsError: two edits overlap (a bug in whoever made them).
    """
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end, edit.order))
    pieces: list[str] = []
    position = 0
    for edit in ordered:
        if edit.start < position:
            raise OverlappingEditsError(f"edits overlap at offset {edit.start}")
        pieces.append(text[position : edit.start])
        pieces.append(edit.text)
        position = edit.end
    pieces.append(text[position:])
    return "".join(pieces)
