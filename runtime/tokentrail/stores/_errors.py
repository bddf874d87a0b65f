"""Sorting delivery failures into "try again later" and "this row will never go in".

The sender keeps every record until the store confirms it. A transient failure (the network,
an overloaded or restarting server, a missing table that someone still has to create) keeps the
whole batch waiting; a permanent one (a value the column refuses, a failed constraint, a denied
row) is bisected down to the rows that cause it, which move to the dead-letter table.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Final

_TRANSIENT_SQLSTATE_CLASSES: Final = frozenset({"08", "40", "53", "57"})
_PERMANENT_SQLSTATE_CLASSES: Final = frozenset({"22", "23"})
_PERMANENT_SQLSTATES: Final = frozenset({"42501"})
_TRANSIENT_HTTP_STATUSES: Final = frozenset({408, 429})


class FailureKind(Enum):
    """Whether retrying the same rows can succeed."""

    TRANSIENT = "transient"
    PERMANENT = "permanent"


class DeliveryError(Exception):
    """A store could not take a batch; the message never contains credentials."""

    def __init__(self, message: str, kind: FailureKind, code: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code

    @property
    def permanent(self) -> bool:
        """True when the rows themselves are at fault and retrying them cannot help."""
        return self.kind is FailureKind.PERMANENT


def kind_of_sqlstate(sqlstate: str | None) -> FailureKind:
    """Classify a PostgreSQL error code; unknown codes count as transient, so nothing is lost."""
    if sqlstate is None:
        return FailureKind.TRANSIENT
    if sqlstate in _PERMANENT_SQLSTATES or sqlstate[:2] in _PERMANENT_SQLSTATE_CLASSES:
        return FailureKind.PERMANENT
    return FailureKind.TRANSIENT


def is_transient_sqlstate_class(sqlstate: str) -> bool:
    """True for the classes a server reports while it is unreachable, busy or restarting."""
    return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


def kind_of_postgrest_code(code: str | None) -> FailureKind:
    """Classify the `code` of a PostgREST error as supabase-py reports it.

    The code is a PostgREST code (`PGRST...`), a PostgreSQL SQLSTATE, or, for a body that was not
    PostgREST's JSON (a proxy's error page), the HTTP status. Request and schema errors
    (`PGRST1xx`, `PGRST2xx`) are the rows' fault, except a missing table (`PGRST205`): that is a
    setup problem, and the rows wait until the table exists. Authentication errors (`PGRST3xx`,
    401, 403) wait too: a key can be fixed.
    """
    if code is None:
        return FailureKind.TRANSIENT
    if code.isdigit() and len(code) == 3:
        status = int(code)
        if status >= 500 or status in _TRANSIENT_HTTP_STATUSES or status in {401, 403}:
            return FailureKind.TRANSIENT
        return FailureKind.PERMANENT
    if code.startswith("PGRST"):
        family = code[5:6]
        if family in {"1", "2"} and code != "PGRST205":
            return FailureKind.PERMANENT
        return FailureKind.TRANSIENT
    return kind_of_sqlstate(code)


_PASSWORD_IN_URL: Final = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.I)
_PASSWORD_IN_DSN: Final = re.compile(r"(?P<head>password\s*=\s*)('[^']*'|\S+)", re.I)


def mask_secrets(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with passwords in URLs and DSNs, and each of `secrets`, replaced by `***`."""
    text = _PASSWORD_IN_URL.sub(r"\g<head>***@", text)
    text = _PASSWORD_IN_DSN.sub(r"\g<head>***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
