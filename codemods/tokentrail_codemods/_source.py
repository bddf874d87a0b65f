"""Reading and writing source files without disturbing anything the rewrite does not touch.

The codemod edits decoded text and writes it back in the file's own encoding, with its byte
order mark and line endings, so a file that needs no change is never rewritten and a file that
does differs only where calls, imports or plumbing were added.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A file could not be read, decoded or written; the message says which and why."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A decoded Python file and what is needed to write it back the same way."""

    path: Path
    raw: bytes
    text: str
    """The decoded text, without a byte order mark, line endings as in the file."""
    encoding: str
    """The codec the file declares (PEP 263) or `utf-8`."""
    has_bom: bool
    newline: str
    """The file's first line ending, used for every line the codemod inserts."""

    def encode(self, text: str) -> bytes:
        """Encode `text` the way this file was encoded, byte order mark included."""
        try:
            body = text.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise SourceError(
                f"{self.path}: the rewritten text cannot be encoded as {self.encoding}"
                f" ({error.reason}); convert the file to UTF-8 and run the codemod again"
            ) from error
        return codecs.BOM_UTF8 + body if self.has_bom else body


def read_source(path: Path) -> SourceFile:
    """Read and decode `path`, honouring a byte order mark and a PEP 263 coding line.

    Raises:
        SourceError: the file cannot be read or is not valid in its declared encoding.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SourceError(f"{path}: cannot be read ({error.strerror or error})") from error

    try:
        declared, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        raise SourceError(f"{path}: {error.msg}; fix the coding line") from error

    has_bom = raw.startswith(codecs.BOM_UTF8)
    encoding = "utf-8" if declared == "utf-8-sig" else declared
    body = raw[len(codecs.BOM_UTF8) :] if has_bom else raw
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{path}: not valid {encoding} at byte {error.start}; save it as UTF-8"
            " or declare its encoding in a PEP 263 coding line"
        ) from error
    return SourceFile(path, raw, text, encoding, has_bom, _first_newline(text))


def _first_newline(text: str) -> str:
    position = text.find("\n")
    if position > 0 and text[position - 1] == "\r":
        return "\r\n"
    if position < 0 and "\r" in text:
        return "\r"
    return "\n"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old file or the new one, never half.

    The new content goes to a temporary file in the same directory, which then replaces the
    original; the original's permission bits are kept. A symbolic link stays a link: its target
    is replaced. A file without any write permission is refused, even for a user (root) whom
    permissions do not stop: read-only is the owner saying "do not edit".

    Raises:
        SourceError: the file or its directory cannot be written.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise SourceError(f"{path}: is read-only; make it writable to have it rewritten")
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tokentrail", dir=target.parent
        )
    except OSError as error:
        raise SourceError(f"{path}: cannot be written ({error.strerror or error})") from error

    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise SourceError(f"{path}: cannot be written ({error.strerror or error})") from error
