"""A small PostgREST-compatible insert endpoint in front of a real PostgreSQL, for supabase-py.

It serves what tokentrail sends — `POST /rest/v1/<table>` with a JSON array, the `columns` and
`on_conflict` parameters and the `Prefer: resolution=ignore-duplicates` header, and
`POST /rest/v1/rpc/<function>` — the way PostgREST does: as the request's role with its JWT
claims set, `json_populate_recordset` into the table, `PGRST204` for an unknown column, and
database errors as PostgREST's JSON with its HTTP status. It is plugged into supabase-py as an
`httpx` transport, so every request goes through supabase-py's own code.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Fault = Callable[[httpx.Request], httpx.Response]

_STATUS_BY_SQLSTATE = {"23505": 409, "42501": 403, "42P01": 404}


def _error(status: int, code: str, message: str, details: str | None = None) -> httpx.Response:
    body = {"code": code, "message": message, "details": details, "hint": None}
    return httpx.Response(status, json=body)


class PostgrestEndpoint:
    """Answers supabase-py's inserts and `rpc` calls from a PostgreSQL database.

    Args:
        database_url: where the rows go (a superuser URL; `role` narrows it per request).
        role: the database role each request runs as, as PostgREST switches to the JWT's role
            (None: stay the connecting user).
        claims: the JWT claims PostgREST would expose as `request.jwt.claims`.
    """

    def __init__(
        self, database_url: str, role: str | None = None, claims: dict[str, object] | None = None
    ) -> None:
        self.database_url = database_url
        self.role = role
        self.claims = claims or {}
        self.requests: list[httpx.Request] = []
        self.faults: list[Fault] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults:
            return self.faults.pop(0)(request)
        if request.method != "POST" or not request.url.path.startswith("/rest/v1/"):
            return _error(404, "PGRST000", f"not served here: {request.method} {request.url}")
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            try:
                with connection.transaction():
                    self._become_caller(connection)
                    if request.url.path.startswith("/rest/v1/rpc/"):
                        return self._call(connection, request)
                    return self._insert(connection, request)
            except psycopg.Error as error:
                return _database_error(error)

    def _become_caller(self, connection: psycopg.Connection[tuple[object, ...]]) -> None:
        if self.role:
            connection.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(self.role)))
        connection.execute(
            "SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(self.claims),)
        )

    def _call(
        self, connection: psycopg.Connection[tuple[object, ...]], request: httpx.Request
    ) -> httpx.Response:
        function = request.url.path.removeprefix("/rest/v1/rpc/")
        arguments: dict[str, object] = json.loads(request.content or b"{}")
        named = sql.SQL(", ").join(
            sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder(name))
            for name in arguments
        )
        cursor = connection.cursor(row_factory=dict_row)
        rows = cursor.execute(
            sql.SQL("SELECT * FROM {}({})").format(sql.Identifier(function), named), arguments
        ).fetchall()
        return httpx.Response(200, text=json.dumps(rows, default=str))

    def _insert(
        self, connection: psycopg.Connection[tuple[object, ...]], request: httpx.Request
    ) -> httpx.Response:
        table = request.url.path.removeprefix("/rest/v1/")
        rows = json.loads(request.content)
        columns = [name.strip('"') for name in request.url.params["columns"].split(",")]
        prefer = request.headers.get("prefer", "")
        on_conflict = request.url.params.get("on_conflict")
        existing = {
            row[0]
            for row in connection.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                "AND attnum > 0 AND NOT attisdropped",
                (table,),
            )
        }
        for column in columns:
            if column not in existing:
                return _error(
                    400,
                    "PGRST204",
                    f"Could not find the '{column}' column of '{table}' in the schema cache",
                )
        names = sql.SQL(", ").join(sql.Identifier(column) for column in columns)
        statement = sql.SQL(
            "INSERT INTO {table} ({names}) SELECT {names} "
            "FROM json_populate_recordset(NULL::{table}, %s)"
        ).format(table=sql.Identifier(table), names=names)
        if on_conflict and "resolution=ignore-duplicates" in prefer:
            statement += sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(sql.Identifier(on_conflict))
        connection.execute(statement, (json.dumps(rows),))
        return httpx.Response(201)


def _database_error(error: psycopg.Error) -> httpx.Response:
    code = error.sqlstate or "PGRST000"
    status = _STATUS_BY_SQLSTATE.get(code, 400 if code[:2] in {"22", "23", "42"} else 500)
    return _error(status, code, error.diag.message_primary or str(error), error.diag.message_detail)
