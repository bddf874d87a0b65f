"""Which failures wait for a retry and which move rows to the dead-letter table."""

from __future__ import annotations

import pytest

from tokentrail.stores._errors import (
    DeliveryError,
    FailureKind,
    kind_of_postgrest_code,
    kind_of_sqlstate,
    mask_secrets,
)

TRANSIENT = FailureKind.TRANSIENT
PERMANENT = FailureKind.PERMANENT


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        (None, TRANSIENT),
        ("08006", TRANSIENT),  # connection failure
        ("40001", TRANSIENT),  # serialization failure
        ("53300", TRANSIENT),  # too many connections
        ("57014", TRANSIENT),  # statement timeout
        ("57P01", TRANSIENT),  # administrator shutdown
        ("42P01", TRANSIENT),  # missing table: wait for `store init`
        ("22P02", PERMANENT),  # invalid text representation
        ("22003", PERMANENT),  # numeric value out of range
        ("23514", PERMANENT),  # check violation
        ("42501", PERMANENT),  # insufficient privilege / row-level security
    ],
)
def test_sqlstates(sqlstate: str | None, kind: FailureKind) -> None:
    assert kind_of_sqlstate(sqlstate) is kind


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (None, TRANSIENT),
        ("500", TRANSIENT),
        ("502", TRANSIENT),
        ("408", TRANSIENT),
        ("429", TRANSIENT),
        ("401", TRANSIENT),
        ("400", PERMANENT),
        ("413", PERMANENT),
        ("PGRST000", TRANSIENT),  # PostgREST cannot reach the database
        ("PGRST102", PERMANENT),  # invalid body
        ("PGRST204", PERMANENT),  # unknown column (after the store's own retry)
        ("PGRST205", TRANSIENT),  # unknown table: wait for the migration
        ("PGRST301", TRANSIENT),  # JWT problem: wait for a fixed key
        ("23505", PERMANENT),
        ("57014", TRANSIENT),
    ],
)
def test_postgrest_codes(code: str | None, kind: FailureKind) -> None:
    assert kind_of_postgrest_code(code) is kind


def test_secrets_are_masked() -> None:
    text = (
        "postgresql://writer:pa55@db:5432/app failed; dsn host=db password='x y' user=w; "
        "key sb_secret_123"
    )

    masked = mask_secrets(text, ("sb_secret_123", ""))

    assert masked == (
        "postgresql://writer:***@db:5432/app failed; dsn host=db password=*** user=w; key ***"
    )


def test_delivery_error_says_whether_it_is_permanent() -> None:
    assert DeliveryError("x", PERMANENT).permanent
    assert not DeliveryError("x", TRANSIENT, code="08006").permanent
