"""The on-disk cache of module summaries, in `<root>/.tokentrail/cache/`.

Entries are keyed by a hash of the module's name and bytes, so an edit, a rename or a checkout
invalidates exactly the files it touches. The whole cache is one `marshal` file stamped with the
analysis code's identity and the Python version; a stamp mismatch, a truncated or corrupt file, or
a missing directory all read as an empty cache. Writes go to a temporary file that replaces the old
one atomically, so two hooks running at once leave one complete cache (the last writer's).
"""

from __future__ import annotations

import logging
import marshal
import os
import sys
from pathlib import Path
from typing import Any, Final

try:  # hashlib would also load OpenSSL, which costs more than the hashing on a hook path
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - CPython always builds _blake2
    from hashlib import blake2b

from tokentrail_lint.analysis._summary import ModuleSummary

logger = logging.getLogger(__name__)

FORMAT: Final = 2
"""Bump when the summary's shape changes."""
CACHE_DIRECTORY: Final = Path(".tokentrail") / "cache"
_FILE_NAME: Final = "index.marshal"


def content_key(module: str, data: bytes) -> bytes:
    """The key of one module's summary: its name and its exact bytes."""
    return blake2b(module.encode() + b"\0" + data, digest_size=16).digest()


def _stamp() -> str:
    """Identify the analysis code (its files' sizes and times) and the Python version."""
    package = Path(__file__).parent
    parts = [f"format={FORMAT}", f"python={sys.version_info[0]}.{sys.version_info[1]}"]
    for path in sorted(package.glob("*.py")):
        status = path.stat()
        parts.append(f"{path.name}:{status.st_size}:{status.st_mtime_ns}")
    return ";".join(parts)


class SummaryCache:
    """Summaries by content key, loaded once and written back only when something changed."""

    def __init__(self, root: Path, *, enabled: bool) -> None:
        self._directory = root / CACHE_DIRECTORY
        self._enabled = enabled
        self._stamp = _stamp() if enabled else ""
        self._stored = self._load() if enabled else {}
        self._used: dict[bytes, ModuleSummary] = {}
        self._changed = False

    def get(self, key: bytes) -> ModuleSummary | None:
        summary = self._stored.get(key)
        if summary is not None:
            self._used[key] = summary
        return summary

    def put(self, key: bytes, summary: ModuleSummary) -> None:
        self._used[key] = summary
        self._changed = True

    def save(self, project_files: int) -> None:
        """Write the cache back if this run summarised anything new.

        Entries this run did not use are kept (a hook run on five files must not evict the rest
        of the project), until old versions of files outnumber the project; then only this run's
        entries are kept.
        """
        if not self._enabled or not self._changed:
            return
        entries = {**self._stored, **self._used}
        if len(entries) > 2 * project_files + 64:
            entries = dict(self._used)
        import tempfile  # only when writing, which a warm run skips

        payload = marshal.dumps({"stamp": self._stamp, "entries": entries})
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            ignore_file = self._directory.parent / ".gitignore"
            if not ignore_file.exists():
                ignore_file.write_text("# Created by tokentrail: nothing here belongs in git.\n*\n")
            handle, temporary = tempfile.mkstemp(dir=self._directory, prefix=".index-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(payload)
                os.replace(temporary, self._directory / _FILE_NAME)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            logger.debug("index cache not written to %s: %s", self._directory, error)

    def _load(self) -> dict[bytes, Any]:
        path = self._directory / _FILE_NAME
        try:
            content = marshal.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, EOFError, ValueError, TypeError) as error:
            logger.debug("index cache %s ignored: %s", path, error)
            return {}
        if not isinstance(content, dict) or content.get("stamp") != self._stamp:
            return {}
        entries = content.get("entries")
        return entries if isinstance(entries, dict) else {}
