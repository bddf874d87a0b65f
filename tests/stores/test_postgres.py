"""The PostgreSQL store against a real server: batches, duplicates, older tables, failures."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from tokentrail._record import UsageRecord
from tokentrail.stores import schema
from tokentrail.stores._codec import record_to_row
from tokentrail.stores._errors import DeliveryError, FailureKind
from tokentrail.stores.postgres import PostgresStore, store_name

pytestmark = pytest.mark.postgres


def _create_table(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)


def _rows(url: str, query: str = "SELECT count(*) FROM token_usage") -> list[tuple[object, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(query).fetchall()


def _write(store: PostgresStore, records: list[UsageRecord], form: str) -> None:
    """Write as the outbox's sender does (`payloads`) or as the journal hands over (`rows`)."""
    if form == "rows":
        store.write_rows([record_to_row(record) for record in records])
    else:
        store.write(records)


FORMS = pytest.mark.parametrize("form", ["payloads", "rows"])


@FORMS
def test_writes_every_column_and_ignores_a_batch_sent_twice(postgres_url: str, form: str) -> None:
    _create_table(postgres_url)
    record = UsageRecord(
        user_id="u1",
        organization_id="org-a",
        provider="openai",
        model="gpt-4o",
        tool_name="script_service",
        operation="write",
        input_tokens=120,
        output_tokens=30,
        cache_read_tokens=100,
        requests=2,
        tool_calls=1,
        cost_usd=Decimal("0.0012345678"),
        cost_source="genai-prices",
        duration_ms=850,
        request_metadata={"attempt": 1, "tags": ["a"]},
    )
    others = [UsageRecord(model=f"m{i}") for i in range(99)]
    store = PostgresStore(postgres_url)

    _write(store, [record, *others], form)
    _write(store, [record, *others], form)
    store.close()

    assert _rows(postgres_url) == [(100,)]
    stored = _rows(
        postgres_url,
        "SELECT id::text, cost_usd, request_metadata, cache_read_tokens, created_at "
        "FROM token_usage WHERE organization_id = 'org-a'",
    )
    assert stored == [
        (record.id, Decimal("0.0012345678"), {"attempt": 1, "tags": ["a"]}, 100, record.created_at)
    ]


@FORMS
def test_older_table_gets_the_columns_it_has_and_says_what_it_leaves_out(
    postgres_url: str, caplog: pytest.LogCaptureFixture, form: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE token_usage (id bigserial PRIMARY KEY, "
            "created_at timestamptz DEFAULT now(), provider text, model text, tool_name text, "
            "operation text, input_tokens integer, output_tokens integer, user_id text, "
            "organization_id text, cost_usd numeric, duration_ms integer, request_metadata jsonb)"
        )
    store = PostgresStore(postgres_url)
    record = UsageRecord(model="mistral-small", input_tokens=7, cache_read_tokens=3)

    with caplog.at_level(logging.WARNING):
        _write(store, [record], form)
        _write(store, [record], form)
    store.close()

    assert _rows(postgres_url, "SELECT model, input_tokens FROM token_usage") == [
        ("mistral-small", 7),
        ("mistral-small", 7),
    ]
    messages = [entry.getMessage() for entry in caplog.records]
    assert sum("at-least-once" in message for message in messages) == 1
    left_out = [message for message in messages if "no writable column" in message]
    assert len(left_out) == 1
    assert "id, " in left_out[0]
    assert "cache_read_tokens" in left_out[0]


def test_a_refused_value_is_a_permanent_error(postgres_url: str) -> None:
    _create_table(postgres_url)
    store = PostgresStore(postgres_url)

    with pytest.raises(DeliveryError) as caught:
        store.write([UsageRecord(input_tokens=-1)])
    store.close()

    assert caught.value.kind is FailureKind.PERMANENT
    assert caught.value.code == "23514"


def test_a_missing_table_keeps_records_waiting(postgres_url: str) -> None:
    store = PostgresStore(postgres_url)

    with pytest.raises(DeliveryError) as caught:
        store.write([UsageRecord()])
    store.close()

    assert caught.value.kind is FailureKind.TRANSIENT
    assert "tokentrail store init" in str(caught.value)


def test_a_refused_connection_is_transient_and_hides_the_password() -> None:
    store = PostgresStore("postgresql://writer:s3cret-pass@127.0.0.1:1/billing", connect_timeout=1)

    with pytest.raises(DeliveryError) as caught:
        store.write([UsageRecord()])

    assert caught.value.kind is FailureKind.TRANSIENT
    assert "s3cret-pass" not in str(caught.value)
    assert "writer:***@127.0.0.1:1/billing" in str(caught.value)
    assert store.name == "postgres-127.0.0.1-1-billing"


def test_store_name_has_no_credentials() -> None:
    assert store_name("postgres://u:p@db.example.com/app") == "postgres-db.example.com-5432-app"


def test_summary_is_aggregated_by_the_server(postgres_url: str) -> None:
    _create_table(postgres_url)
    day = datetime(2026, 3, 2, 12, tzinfo=UTC)
    store = PostgresStore(postgres_url)
    store.write(
        [
            UsageRecord(created_at=day, organization_id="org-a", tool_name="a", model="m1",
                        input_tokens=10, cost_usd=Decimal("0.25")),
            UsageRecord(created_at=day, organization_id="org-a", tool_name="a", model="m2",
                        input_tokens=5),
            UsageRecord(created_at=day + timedelta(days=1), organization_id="org-a",
                        tool_name="b", model="m1", input_tokens=1, cost_usd=Decimal("1")),
            UsageRecord(created_at=day, organization_id="org-b", tool_name="a", input_tokens=99),
        ]
    )  # fmt: skip
    store.close()
    span = (day - timedelta(days=1), day + timedelta(days=7))

    by_tool = store.summary("org-a", *span, group_by="tool")
    by_day = store.summary("org-a", *span)
    first_day_only = store.summary("org-a", span[0], day + timedelta(hours=1), group_by="model")

    totals = [
        (r.bucket, r.records, r.input_tokens, r.cost_usd, r.unpriced_records) for r in by_tool
    ]
    assert totals == [("a", 2, 15, Decimal("0.25"), 1), ("b", 1, 1, Decimal("1"), 0)]
    assert [(r.bucket, r.input_tokens) for r in by_day] == [("2026-03-02", 15), ("2026-03-03", 1)]
    assert [(r.bucket, r.input_tokens) for r in first_day_only] == [("m1", 10), ("m2", 5)]
    with pytest.raises(ValueError, match="group_by must be one of day, tool"):
        store.summary("org-a", *span, group_by="user")  # type: ignore[arg-type]  # on purpose
