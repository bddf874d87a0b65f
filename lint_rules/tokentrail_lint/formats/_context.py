"""What every format needs to know besides the findings themselves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Where paths are shown from: `root` for SARIF, `cwd` for what a person reads."""

    root: Path
    cwd: Path

    def display_path(self, path: Path) -> str:
        """Return `path` relative to the working directory when it lies under it."""
        resolved = path.resolve()
        try:
            return resolved.relative_to(self.cwd.resolve()).as_posix()
        except ValueError:
            return resolved.as_posix()
