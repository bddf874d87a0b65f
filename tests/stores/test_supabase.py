"""The Supabase store through supabase-py, against a PostgREST-compatible endpoint.

The endpoint (`postgrest_endpoint.py`) is an `httpx` transport that writes into the session's
real PostgreSQL, so the requests are built by supabase-py itself and the rows land in a table.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from supabase import AsyncClient, Client, ClientOptions, create_client
from tests.stores.postgrest_endpoint import PostgrestEndpoint

from tokentrail._record import UsageRecord
from tokentrail.stores import StoreConfigurationError, open_sink, schema
from tokentrail.stores._codec import record_to_json
from tokentrail.stores._errors import DeliveryError, FailureKind
from tokentrail.stores._remote import open_remote_store
from tokentrail.stores._sender import SenderSettings
from tokentrail.stores.outbox import Outbox
from tokentrail.stores.supabase import SupabaseStore

pytestmark = pytest.mark.postgres

SECRET = "sb_secret_do-not-log-me"
FAST = SenderSettings(max_batch_age=0.02, initial_backoff=0.02, max_backoff=0.2, batch_size=50)


@pytest.fixture
def endpoint(postgres_url: str) -> PostgrestEndpoint:
    return PostgrestEndpoint(postgres_url)


@pytest.fixture
def client(endpoint: PostgrestEndpoint) -> Client:
    http = httpx.Client(transport=httpx.MockTransport(endpoint))
    return create_client("http://project.supabase.test", SECRET, ClientOptions(httpx_client=http))


def _create_table(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)


def _stored(url: str, columns: str = "id::text") -> list[tuple[object, ...]]:
    with psycopg.connect(url) as connection:
        return connection.execute(f"SELECT {columns} FROM token_usage ORDER BY 1").fetchall()


def test_sends_one_idempotent_minimal_upsert_per_batch(
    postgres_url: str, endpoint: PostgrestEndpoint, client: Client
) -> None:
    _create_table(postgres_url)
    records = [
        UsageRecord(model="gpt-4o", cost_usd=Decimal("0.0000012345"), request_metadata={"a": 1}),
        UsageRecord(model="mistral-small", input_tokens=9),
    ]
    store = SupabaseStore(client)

    store.write(records)
    store.write(records)

    request = endpoint.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/rest/v1/token_usage"
    assert request.url.params["on_conflict"] == "id"
    assert set(request.headers["prefer"].split(",")) == {
        "return=minimal",
        "resolution=ignore-duplicates",
    }
    assert request.headers["apikey"] == SECRET
    body = json.loads(request.content)
    assert [row["id"] for row in body] == [record.id for record in records]
    assert body[0]["cost_usd"] == "0.0000012345"
    assert len(endpoint.requests) == 2
    assert sorted(_stored(postgres_url, "id::text, cost_usd")) == sorted(
        [(records[0].id, Decimal("0.0000012345")), (records[1].id, None)]
    )
    assert store.name == "supabase-project.supabase.test"


def test_older_table_columns_are_dropped_and_announced_once(
    postgres_url: str, endpoint: PostgrestEndpoint, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE token_usage (id bigserial PRIMARY KEY, created_at timestamptz, "
            "provider text, model text, tool_name text, operation text, input_tokens integer, "
            "output_tokens integer, user_id text, organization_id text, cost_usd numeric, "
            "duration_ms integer, request_metadata jsonb)"
        )
    store = SupabaseStore(client)

    with caplog.at_level(logging.WARNING):
        store.write([UsageRecord(model="first", input_tokens=3)])
        requests_for_first = len(endpoint.requests)
        store.write([UsageRecord(model="second")])

    assert set(store.columns) == {
        "created_at", "user_id", "organization_id", "provider", "model", "tool_name",
        "operation", "input_tokens", "output_tokens", "cost_usd", "duration_ms",
        "request_metadata",
    }  # fmt: skip
    assert not store.idempotent
    assert len(endpoint.requests) == requests_for_first + 1
    assert "on_conflict" not in endpoint.requests[-1].url.params
    assert _stored(postgres_url, "model, input_tokens") == [("first", 3), ("second", 0)]
    messages = [entry.getMessage() for entry in caplog.records]
    assert sum("at-least-once" in message for message in messages) == 1
    left_out = [message for message in messages if "no writable column" in message]
    assert len(left_out) == 1
    assert "cache_read_tokens" in left_out[0]
    assert "id;" in left_out[0]


def test_an_id_without_a_unique_key_falls_back_to_inserts(
    postgres_url: str, endpoint: PostgrestEndpoint, client: Client
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)
        connection.execute("ALTER TABLE token_usage DROP CONSTRAINT token_usage_pkey")
    store = SupabaseStore(client)

    store.write([UsageRecord()])

    assert not store.idempotent
    assert [request.url.params.get("on_conflict") for request in endpoint.requests] == ["id", None]
    assert len(_stored(postgres_url)) == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (lambda request: httpx.Response(503, text="upstream unavailable"), FailureKind.TRANSIENT),
        (lambda request: httpx.Response(429, text="slow down"), FailureKind.TRANSIENT),
        (lambda request: httpx.Response(408), FailureKind.TRANSIENT),
        (lambda request: httpx.Response(413, text="too large"), FailureKind.PERMANENT),
        (
            lambda request: httpx.Response(
                401, json={"code": "PGRST301", "message": "JWT expired", "details": None}
            ),
            FailureKind.TRANSIENT,
        ),
    ],
)
def test_http_failures_are_classified(
    endpoint: PostgrestEndpoint, client: Client, fault: object, kind: FailureKind
) -> None:
    endpoint.faults.append(fault)  # type: ignore[arg-type]  # each case is a Fault lambda
    store = SupabaseStore(client)

    with pytest.raises(DeliveryError) as caught:
        store.write([UsageRecord()])

    assert caught.value.kind is kind
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError]
)
def test_network_errors_and_timeouts_are_transient(
    endpoint: PostgrestEndpoint, client: Client, failure: type[httpx.TransportError]
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("no answer", request=request)

    endpoint.faults.append(fail)

    with pytest.raises(DeliveryError) as caught:
        SupabaseStore(client).write([UsageRecord()])

    assert caught.value.kind is FailureKind.TRANSIENT


def test_outbox_bisects_a_poisoned_row_and_retries_a_lost_reply(
    postgres_url: str, endpoint: PostgrestEndpoint, client: Client, tmp_path: Path
) -> None:
    _create_table(postgres_url)
    good = [UsageRecord(model=f"m{i}") for i in range(8)]
    poisoned = UsageRecord(model="bad", requests=-1)

    # Two replies are lost: the outbox's direct delivery's, then the sender's first attempt's.
    replies_to_lose = 2

    def commit_then_lose_reply(request: httpx.Request) -> httpx.Response:
        nonlocal replies_to_lose
        assert endpoint(request).status_code == 201
        replies_to_lose -= 1
        if replies_to_lose:
            endpoint.faults.append(commit_then_lose_reply)
        raise httpx.ReadError("connection reset", request=request)

    endpoint.faults.append(commit_then_lose_reply)
    outbox = Outbox(SupabaseStore(client), folder=tmp_path, settings=FAST, direct_delivery=True)
    outbox.append(good[:4])
    first = outbox.flush()
    outbox.append([*good[4:6], poisoned, *good[6:]])
    second = outbox.flush(10)
    assert outbox.path is not None
    with sqlite3.connect(outbox.path) as connection:
        dead = connection.execute("SELECT id, error FROM dead_letter").fetchall()
    connection.close()
    outbox.close(1)

    assert replies_to_lose == 0
    assert first.delivered == 0
    assert second.pending == 0
    assert sorted(str(row[0]) for row in _stored(postgres_url)) == sorted(r.id for r in good)
    assert [row[0] for row in dead] == [poisoned.id]
    assert dead[0][1].startswith("supabase-project.supabase.test: 23514:")
    assert SECRET not in dead[0][1]


def test_supabase_url_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", SECRET)
    store = open_remote_store("supabase://")

    with pytest.raises(DeliveryError) as caught:
        store.write_payloads([record_to_json(UsageRecord())])

    assert store.name == "supabase-127.0.0.1"
    assert caught.value.kind is FailureKind.TRANSIENT
    assert SECRET not in str(caught.value)


def test_supabase_url_without_environment_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SUPABASE_URL", raising=False)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", SECRET)

    with pytest.raises(StoreConfigurationError, match="needs SUPABASE_URL in the environment"):
        open_sink("supabase://", connect=False)


def test_an_async_client_is_refused() -> None:
    async_client = AsyncClient("http://project.supabase.test", SECRET)

    with pytest.raises(StoreConfigurationError, match="sync Client, got an AsyncClient"):
        open_sink(async_client)


def test_something_else_is_refused() -> None:
    with pytest.raises(StoreConfigurationError, match="cannot use a int as a store"):
        open_sink(42)


def test_checking_a_client_opens_nothing(client: Client, endpoint: PostgrestEndpoint) -> None:
    checked = open_sink(client, connect=False)

    assert checked.name == "supabase-project.supabase.test"
    assert checked.flush() == checked.close()
    assert endpoint.requests == []
