"""The Supabase migration on a real PostgreSQL with Supabase's roles: who may read and write.

`fixtures/supabase_stand_in.sql` creates the `anon`, `authenticated` and `service_role` roles and
`auth.jwt()` as Supabase has them; the migration runs on top, twice (it must be idempotent).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from supabase import ClientOptions, create_client
from tests.postgres_server import PostgresServer
from tests.stores.postgrest_endpoint import PostgrestEndpoint

from tokentrail._record import UsageRecord
from tokentrail.stores import schema
from tokentrail.stores._errors import DeliveryError, FailureKind
from tokentrail.stores.supabase import SupabaseStore

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).parents[2]
MIGRATIONS = sorted((ROOT / "migrations" / "supabase").glob("*_token_usage.sql"))
STAND_IN = Path(__file__).parent / "fixtures" / "supabase_stand_in.sql"
_numbers = itertools.count()
JANUARY = datetime(2026, 1, 15, tzinfo=UTC)


@pytest.fixture(scope="module")
def database_url(postgres_server: PostgresServer) -> str:
    """A fresh database with Supabase's stand-in, the migration applied twice, and three rows."""
    name = f"supabase_{next(_numbers)}"
    with psycopg.connect(postgres_server.url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(STAND_IN.read_text())
        connection.execute(MIGRATIONS[-1].read_text())
        connection.execute(MIGRATIONS[-1].read_text())
        _insert_as_service_role(connection)
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A superuser connection to that database; tests switch to an API role with SET ROLE."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def _insert_as_service_role(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    with connection.transaction():
        connection.execute("SET LOCAL ROLE service_role")
        for organization, tool, tokens, cost in [
            ("org-a", "script_service", 100, Decimal("0.5")),
            ("org-a", "summary_service", 50, None),
            ("org-b", "script_service", 70, Decimal("0.25")),
        ]:
            connection.execute(
                "INSERT INTO public.token_usage (created_at, organization_id, tool_name, "
                "input_tokens, cost_usd) VALUES (%s, %s, %s, %s, %s)",
                (JANUARY, organization, tool, tokens, cost),
            )


def _as_member_of(connection: psycopg.Connection[tuple[object, ...]], *organizations: str) -> None:
    claims = json.dumps(
        {"role": "authenticated", "app_metadata": {"organization_ids": organizations}}
    )
    connection.execute("SET ROLE authenticated")
    connection.execute("SELECT set_config('request.jwt.claims', %s, false)", (claims,))


def test_the_committed_migration_is_what_the_schema_command_prints() -> None:
    assert len(MIGRATIONS) == 1
    assert MIGRATIONS[0].read_text().endswith(schema.script("supabase"))


def test_members_read_only_their_organizations_rows(
    database: psycopg.Connection[tuple[object, ...]],
) -> None:
    _as_member_of(database, "org-a")
    seen_by_a = database.execute("SELECT organization_id FROM public.token_usage").fetchall()
    _as_member_of(database, "org-c")
    seen_by_c = database.execute("SELECT count(*) FROM public.token_usage").fetchall()

    assert seen_by_a == [("org-a",), ("org-a",)]
    assert seen_by_c == [(0,)]


@pytest.mark.parametrize(
    ("role", "statement"),
    [
        ("anon", "SELECT count(*) FROM public.token_usage"),
        ("anon", "INSERT INTO public.token_usage (organization_id) VALUES ('org-a')"),
        ("authenticated", "INSERT INTO public.token_usage (organization_id) VALUES ('org-a')"),
        ("authenticated", "UPDATE public.token_usage SET input_tokens = 0"),
        ("authenticated", "DELETE FROM public.token_usage"),
        ("service_role", "UPDATE public.token_usage SET input_tokens = 0"),
        ("service_role", "DELETE FROM public.token_usage"),
        ("service_role", "TRUNCATE public.token_usage"),
    ],
)
def test_api_roles_cannot_change_rows(
    database: psycopg.Connection[tuple[object, ...]], role: str, statement: str
) -> None:
    if role == "authenticated":
        _as_member_of(database, "org-a")
    else:
        database.execute(f"SET ROLE {role}")

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        database.execute(statement)


def test_counts_cannot_be_negative(database: psycopg.Connection[tuple[object, ...]]) -> None:
    database.execute("SET ROLE service_role")

    with pytest.raises(psycopg.errors.CheckViolation):
        database.execute("INSERT INTO public.token_usage (output_tokens) VALUES (-1)")


def test_summary_runs_as_the_caller_and_groups_in_sql(
    database: psycopg.Connection[tuple[object, ...]],
) -> None:
    _as_member_of(database, "org-a")
    by_tool = database.execute(
        "SELECT bucket, records, input_tokens, cost_usd, unpriced_records "
        "FROM public.token_usage_summary('org-a', %s, %s, 'tool')",
        (JANUARY.replace(day=1), JANUARY.replace(month=2, day=1)),
    ).fetchall()
    by_day = database.execute(
        "SELECT bucket, input_tokens FROM public.token_usage_summary('org-a', %s, %s)",
        (JANUARY.replace(day=1), JANUARY.replace(month=2, day=1)),
    ).fetchall()
    other_organization = database.execute(
        "SELECT count(*) FROM public.token_usage_summary('org-b', %s, %s, 'tool')",
        (JANUARY.replace(day=1), JANUARY.replace(month=2, day=1)),
    ).fetchall()

    assert by_tool == [
        ("script_service", 1, 100, Decimal("0.5000000000"), 0),
        ("summary_service", 1, 50, None, 1),
    ]
    assert by_day == [("2026-01-15", 150)]
    assert other_organization == [(0,)]


def _client_as(database_url: str, role: str, organizations: tuple[str, ...] = ()) -> SupabaseStore:
    claims: dict[str, object] = {
        "role": role,
        "app_metadata": {"organization_ids": list(organizations)},
    }
    endpoint = PostgrestEndpoint(database_url, role=role, claims=claims)
    http = httpx.Client(transport=httpx.MockTransport(endpoint))
    client = create_client("http://project.supabase.test", "key", ClientOptions(httpx_client=http))
    return SupabaseStore(client)


def test_summary_through_supabase_follows_row_level_security(database_url: str) -> None:
    member_of_a = _client_as(database_url, "authenticated", ("org-a",))
    january = (JANUARY.replace(day=1), JANUARY.replace(month=2, day=1))

    own = member_of_a.summary("org-a", *january, group_by="tool")
    other = member_of_a.summary("org-b", *january, group_by="tool")

    assert [(row.bucket, row.input_tokens, row.cost_usd) for row in own] == [
        ("script_service", 100, Decimal("0.5")),
        ("summary_service", 50, None),
    ]
    assert other == []
    with pytest.raises(ValueError, match="group_by"):
        member_of_a.summary("org-a", *january, group_by="week")  # type: ignore[arg-type]  # on purpose


def test_anon_inserts_are_refused_for_good(database_url: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        _client_as(database_url, "anon").write([UsageRecord(organization_id="org-a")])

    assert caught.value.kind is FailureKind.PERMANENT
    assert caught.value.code == "42501"


def test_the_service_role_inserts_through_the_api(database_url: str) -> None:
    record = UsageRecord(organization_id="org-z", input_tokens=3)

    _client_as(database_url, "service_role").write([record])

    with psycopg.connect(database_url) as connection:
        stored = connection.execute(
            "SELECT input_tokens FROM public.token_usage WHERE id = %s", (record.id,)
        ).fetchall()
    assert stored == [(3,)]


def test_the_shipped_migration_is_what_the_schema_command_prints() -> None:
    """The checked-in migration must not drift from `tokentrail store schema --dialect supabase`."""
    [migration] = (Path(__file__).parents[2] / "migrations" / "supabase").glob("*_token_usage.sql")
    header, _, body = migration.read_text().partition("\n\n")

    assert all(line.startswith("--") for line in header.splitlines())
    assert body.strip() == schema.script("supabase").strip()
