"""`tokentrail store`: create, print and migrate the `token_usage` table.

    tokentrail store init [URL]        create the table and its indexes if missing (idempotent)
    tokentrail store schema --dialect sqlite|postgres|supabase
    tokentrail store migrate [URL]     add the key and the newer columns to an older table

URL defaults to `TOKENTRAIL_STORE`. Supabase's API cannot run DDL, so for `supabase://` both
`init` and `migrate` print the SQL to add as a migration (`supabase/migrations/`) instead.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from typing import TYPE_CHECKING, get_args

from tokentrail.stores import schema
from tokentrail.stores._errors import mask_secrets

if TYPE_CHECKING:
    import psycopg

_SUPABASE_NOTE = (
    "-- Supabase's API cannot change tables: save this as "
    "supabase/migrations/<YYYYMMDDHHMMSS>_token_usage.sql\n"
    "-- and apply it with `supabase db push` (or paste it into the SQL editor).\n"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokentrail store", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="create the table and indexes if they are missing")
    init.add_argument("url", nargs="?", help="store URL (default: TOKENTRAIL_STORE)")
    show = commands.add_parser("schema", help="print the DDL for a dialect")
    show.add_argument("--dialect", required=True, choices=get_args(schema.Dialect))
    migrate = commands.add_parser("migrate", help="bring an older table up to date, additively")
    migrate.add_argument("url", nargs="?", help="store URL (default: TOKENTRAIL_STORE)")
    return parser


def _store_url(given: str | None) -> str:
    url = given or os.environ.get("TOKENTRAIL_STORE", "")
    if not url:
        raise SystemExit("error: URL: give a store URL or set TOKENTRAIL_STORE")
    if not url.startswith(("sqlite://", "postgresql://", "postgres://", "supabase://")):
        raise SystemExit(
            f"error: URL: unknown store {mask_secrets(url)!r}; use sqlite:///FILE, "
            "postgresql://... or supabase://"
        )
    return url


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=10, autocommit=True)
    except psycopg.Error as error:
        raise SystemExit(f"error: cannot connect to {mask_secrets(url)}: {error}") from None


def _init(url: str) -> int:
    if url.startswith("supabase://"):
        print(_SUPABASE_NOTE + schema.script("supabase"), end="")
        return 0
    if url.startswith("sqlite://"):
        from tokentrail.stores import sqlite_path_from_url

        path = sqlite_path_from_url(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as database:
            for statement in schema.create_statements("sqlite"):
                database.execute(statement)
        database.close()
        print(f"{schema.TABLE} is ready in {path}")
        return 0
    with _connect(url) as connection:
        for statement in schema.create_statements("postgres"):
            connection.execute(statement)
    print(f"{schema.TABLE} is ready at {mask_secrets(url)}")
    return 0


def _migrate(url: str) -> int:
    if url.startswith("supabase://"):
        statements = schema.migration_statements({}, id_is_unique=False, dialect="supabase")
        print(_SUPABASE_NOTE, end="")
        print("".join(f"{statement};\n" for statement in statements), end="")
        return 0
    if url.startswith("sqlite://"):
        print(
            "error: URL: the embedded SQLite store keeps its own table up to date", file=sys.stderr
        )
        return 2

    from tokentrail.stores.postgres import read_layout, read_types

    with _connect(url) as connection:
        types = read_types(connection, schema.TABLE)
        if not types:
            print(f"no table {schema.TABLE} at {mask_secrets(url)}: run `tokentrail store init`")
            return 1
        layout = read_layout(connection, schema.TABLE)
        statements = schema.migration_statements(types, id_is_unique=layout.idempotent)
        with connection.transaction():
            for statement in statements:
                connection.execute(statement)
                print(f"{statement};")
        if not statements:
            print(f"{schema.TABLE} at {mask_secrets(url)} is up to date")
        id_type = read_types(connection, schema.TABLE)["id"]
    if id_type not in ("uuid", "text"):
        print(
            f"{schema.TABLE}.id is {id_type}, which tokentrail cannot write: delivery stays "
            "at-least-once. To make it exactly-once, rename that column and run this again "
            "(it then adds a uuid id with a unique index).",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: list[str]) -> int:
    """Run `tokentrail store ...`; 0 on success, 1 when work is left to do by hand, 2 on errors."""
    try:
        arguments = _parser().parse_args(argv)
        if arguments.command == "schema":
            print(schema.script(arguments.dialect), end="")
            return 0
        url = _store_url(arguments.url)
        return _init(url) if arguments.command == "init" else _migrate(url)
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
            return 2
        return 0 if exit_.code is None else int(exit_.code)
