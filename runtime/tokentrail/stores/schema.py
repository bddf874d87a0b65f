"""The `token_usage` table in each SQL dialect tokentrail writes to, and the outbox's tables.

The PostgreSQL and Supabase texts are idempotent (`IF NOT EXISTS`, `CREATE OR REPLACE`, policies
dropped before they are created), so `tokentrail store init` and a Supabase migration can run
them against a database that already has some of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Dialect = Literal["sqlite", "postgres", "supabase"]

TABLE: Final = "token_usage"

_SQLITE_TABLE: Final = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    user_id TEXT,
    organization_id TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    tool_name TEXT,
    operation TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    tool_calls INTEGER NOT NULL DEFAULT 0,
    cost_usd TEXT,
    cost_source TEXT NOT NULL DEFAULT 'none',
    duration_ms INTEGER,
    status TEXT NOT NULL DEFAULT 'ok',
    error_type TEXT,
    run_id TEXT,
    parent_run_id TEXT,
    agent_name TEXT,
    request_metadata TEXT
)
"""

_SQLITE_INDEXES: Final = (
    f"CREATE INDEX IF NOT EXISTS {TABLE}_created_at_idx ON {TABLE} (created_at)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_org_created_idx ON {TABLE} (organization_id, created_at)",
)

POSTGRES_COLUMN_TYPES: Final[Mapping[str, str]] = {
    "id": "uuid NOT NULL DEFAULT gen_random_uuid()",
    "created_at": "timestamptz NOT NULL DEFAULT now()",
    "user_id": "text",
    "organization_id": "text",
    "provider": "text NOT NULL DEFAULT 'unknown'",
    "model": "text NOT NULL DEFAULT 'unknown'",
    "tool_name": "text",
    "operation": "text",
    "input_tokens": "integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0)",
    "output_tokens": "integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0)",
    "cache_read_tokens": "integer NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0)",
    "cache_write_tokens": "integer NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0)",
    "requests": "integer NOT NULL DEFAULT 0 CHECK (requests >= 0)",
    "tool_calls": "integer NOT NULL DEFAULT 0 CHECK (tool_calls >= 0)",
    "cost_usd": "numeric(20, 10) CHECK (cost_usd >= 0)",
    "cost_source": "text NOT NULL DEFAULT 'none'",
    "duration_ms": "integer CHECK (duration_ms >= 0)",
    "status": "text NOT NULL DEFAULT 'ok'",
    "error_type": "text",
    "run_id": "text",
    "parent_run_id": "text",
    "agent_name": "text",
    "request_metadata": "jsonb",
}
"""Each column's PostgreSQL type and constraints, as `CREATE TABLE` writes them."""

_POSTGRES_INDEXES: Final = (
    "CREATE INDEX IF NOT EXISTS {table}_org_created_idx "
    "ON {qualified} (organization_id, created_at)",
    "CREATE INDEX IF NOT EXISTS {table}_created_idx ON {qualified} (created_at)",
    "CREATE INDEX IF NOT EXISTS {table}_tool_operation_idx "
    "ON {qualified} (tool_name, operation, created_at)",
)

_SUPABASE_MEMBERSHIP: Final = f"""
-- Which organizations the signed-in user belongs to. Replace the body to match how your project
-- records membership (a members table, a different claim); the policy below only calls this.
-- Default: the JWT's app_metadata.organization_ids, a JSON array of ids, which only the service
-- role can set (users cannot edit app_metadata).
CREATE OR REPLACE FUNCTION public.{TABLE}_user_organizations()
RETURNS text[]
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
AS $$
    SELECT coalesce(
        array(
            SELECT jsonb_array_elements_text(
                coalesce(auth.jwt() -> 'app_metadata' -> 'organization_ids', '[]'::jsonb)
            )
        ),
        '{{}}'::text[]
    )
$$
"""

_SUPABASE_SECURITY: Final = (
    f"ALTER TABLE public.{TABLE} ENABLE ROW LEVEL SECURITY",
    # Records are billing evidence: no API role may change or remove them (see docs/stores.md
    # for how an erasure request is handled by the database owner instead).
    f"REVOKE ALL ON public.{TABLE} FROM anon, authenticated, service_role",
    f"GRANT SELECT ON public.{TABLE} TO authenticated",
    f"GRANT SELECT, INSERT ON public.{TABLE} TO service_role",
    f"DROP POLICY IF EXISTS {TABLE}_members_read ON public.{TABLE}",
    f"CREATE POLICY {TABLE}_members_read ON public.{TABLE} FOR SELECT TO authenticated "
    # The sub-select runs the function once per query, not once per row.
    f"USING (organization_id = ANY ((SELECT public.{TABLE}_user_organizations())::text[]))",
)

SUMMARY_GROUPS: Final = ("day", "tool", "operation", "model")
"""What `summary` can group by: the UTC day, `tool_name`, `operation` or `model`."""


def summary_select(table: str, organization: str, start: str, end: str, group_by: str) -> str:
    """The summary query over `table`; the other arguments are SQL expressions for its inputs.

    One text serves the Supabase function (arguments are its parameters) and the direct
    PostgreSQL query (arguments are driver placeholders), so both always agree. A run's
    duration repeats on each of its rows, so it is not summed.
    """
    return f"""
    SELECT
        CASE {group_by}
            WHEN 'day' THEN to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
            WHEN 'tool' THEN u.tool_name
            WHEN 'operation' THEN u.operation
            WHEN 'model' THEN u.model
        END AS bucket,
        count(*) AS records,
        sum(u.input_tokens) AS input_tokens,
        sum(u.output_tokens) AS output_tokens,
        sum(u.cache_read_tokens) AS cache_read_tokens,
        sum(u.cache_write_tokens) AS cache_write_tokens,
        sum(u.requests) AS requests,
        sum(u.tool_calls) AS tool_calls,
        sum(u.cost_usd) AS cost_usd,
        count(*) FILTER (WHERE u.cost_usd IS NULL) AS unpriced_records
    FROM {table} AS u
    WHERE u.organization_id = {organization}
      AND u.created_at >= {start}
      AND u.created_at < {end}
      AND {group_by} IN ('day', 'tool', 'operation', 'model')
    GROUP BY 1
    ORDER BY 1"""


_SUMMARY_FUNCTION: Final = f"""
-- Totals per day, tool, operation or model for one organization and time range. PostgREST does
-- not aggregate by default, so reports call this through `rpc`. SECURITY INVOKER: the caller's
-- row-level security applies, so members only ever sum their own organization's rows.
CREATE OR REPLACE FUNCTION public.{TABLE}_summary(
    p_organization_id text,
    p_start timestamptz,
    p_end timestamptz,
    p_group_by text DEFAULT 'day'
)
RETURNS TABLE (
    bucket text,
    records bigint,
    input_tokens bigint,
    output_tokens bigint,
    cache_read_tokens bigint,
    cache_write_tokens bigint,
    requests bigint,
    tool_calls bigint,
    cost_usd numeric,
    unpriced_records bigint
)
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = ''
AS $${summary_select(f"public.{TABLE}", "p_organization_id", "p_start", "p_end", "p_group_by")}
$$
"""

OUTBOX_STATEMENTS: Final = (
    # No index on `id`: every index makes the caller's append and the sender's delete dearer,
    # and a record that reaches the store twice is stored once by the store's key anyway.
    "CREATE TABLE IF NOT EXISTS pending ("
    "seq INTEGER PRIMARY KEY, id TEXT NOT NULL, enqueued_at REAL NOT NULL, payload TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dead_letter ("
    "id TEXT PRIMARY KEY, failed_at REAL NOT NULL, error TEXT NOT NULL, payload TEXT NOT NULL)",
)
"""The outbox file's tables: records waiting for the store, and records it refused for good."""


def _qualified(dialect: Dialect) -> str:
    # Plain PostgreSQL follows the connection's search path; Supabase's API serves `public`.
    return f"public.{TABLE}" if dialect == "supabase" else TABLE


def _postgres_table(dialect: Dialect) -> str:
    lines = [f"    {column} {kind}" for column, kind in POSTGRES_COLUMN_TYPES.items()]
    lines.append(f"    CONSTRAINT {TABLE}_pkey PRIMARY KEY (id)")
    body = ",\n".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {_qualified(dialect)} (\n{body}\n)"


def create_statements(dialect: Dialect) -> tuple[str, ...]:
    """The statements that create the table and its indexes if they are missing (idempotent).

    `supabase` adds row-level security, the grants, the membership function the policy uses and
    the summary function.
    """
    if dialect == "sqlite":
        return (_SQLITE_TABLE.strip(), *_SQLITE_INDEXES)
    indexes = (
        index.format(table=TABLE, qualified=_qualified(dialect)) for index in _POSTGRES_INDEXES
    )
    postgres = (_postgres_table(dialect), *indexes)
    if dialect == "postgres":
        return postgres
    return (
        *postgres,
        _SUPABASE_MEMBERSHIP.strip(),
        *_SUPABASE_SECURITY,
        _SUMMARY_FUNCTION.strip(),
    )


def script(dialect: Dialect) -> str:
    """The statements of `create_statements` as one SQL script."""
    return "".join(f"{statement};\n\n" for statement in create_statements(dialect)).rstrip() + "\n"


def migration_statements(
    existing: Mapping[str, str], *, id_is_unique: bool, dialect: Dialect = "postgres"
) -> tuple[str, ...]:
    """The additive statements that bring an older PostgreSQL table up to the current layout.

    Args:
        existing: the table's columns and their types (`format_type` spelling).
        id_is_unique: whether a unique index on `id` alone already exists.
        dialect: `postgres` (names follow the search path) or `supabase` (`public.`).

    Returns:
        `ALTER TABLE ... ADD COLUMN` for each missing column (existing rows get each column's
        default; a missing `id` is filled with fresh UUIDs) and a unique index on `id` when it is
        missing. Nothing is dropped or retyped; an `id` of another type is left for the caller
        to report.
    """
    qualified = _qualified(dialect)
    statements = [
        f"ALTER TABLE {qualified} ADD COLUMN IF NOT EXISTS {column} {kind}"
        for column, kind in POSTGRES_COLUMN_TYPES.items()
        if column not in existing
    ]
    id_type = existing.get("id", "uuid")
    if not id_is_unique and id_type in {"uuid", "text"}:
        statements.append(f"CREATE UNIQUE INDEX IF NOT EXISTS {TABLE}_id_key ON {qualified} (id)")
    return tuple(statements)
