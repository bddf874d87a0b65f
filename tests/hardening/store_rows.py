"""Reading back what a store holds, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3

import psycopg


def stored_operations(url: str) -> list[str]:
    """`operation` of every stored row (each test gives each run its own)."""
    query = "SELECT operation FROM token_usage"
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return [row[0] for row in connection.execute(query)]
        finally:
            connection.close()
    with psycopg.connect(url) as pg_connection:
        return [row[0] for row in pg_connection.execute(query)]
