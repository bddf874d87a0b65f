"""The PostgreSQL store: batches of records through psycopg 3.

A batch is sent as one JSON array and moved into `token_usage` with one
`INSERT ... ON CONFLICT (id) DO NOTHING`, so a batch sent twice (a reply lost after the commit)
is stored once. The table's columns are read once per connection: an older table gets the
columns it has, and a table without a unique, client-writable `id` is written at-least-once.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from tokentrail._record import COLUMNS, UsageRecord
from tokentrail.stores._codec import Row, record_to_json, rows_to_json
from tokentrail.stores._errors import (
    DeliveryError,
    FailureKind,
    is_transient_sqlstate_class,
    kind_of_sqlstate,
    mask_secrets,
)
from tokentrail.stores._summary import GroupBy, SummaryRow
from tokentrail.stores.schema import SUMMARY_GROUPS, TABLE, summary_select

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

logger = logging.getLogger(__name__)

_WRITABLE_ID_TYPES: Final = ("uuid", "text", "character varying")
_COLUMNS_QUERY: Final = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
WHERE a.attrelid = to_regclass(%(table)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_ID_IS_UNIQUE_QUERY: Final = """
SELECT EXISTS (
    SELECT 1 FROM pg_index i JOIN pg_attribute a
      ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = to_regclass(%(table)s) AND i.indisunique AND i.indnkeyatts = 1
      AND i.indpred IS NULL AND i.indimmediate AND a.attname = 'id'
)
"""


@dataclass(frozen=True, slots=True)
class TableLayout:
    """Which of our columns the table has, and whether `id` makes writes idempotent."""

    columns: tuple[str, ...]
    left_out: tuple[str, ...]
    idempotent: bool
    types: tuple[str, ...]
    """Each column's type as the server spells it (`format_type`), in `columns` order."""

    @property
    def fingerprint(self) -> str:
        """A short name for this set of columns (a table layout that changes gets a new one)."""
        return hashlib.sha1(",".join(self.columns).encode(), usedforsecurity=False).hexdigest()[:10]


def check_url(url: str) -> None:
    """Refuse now a URL that libpq would refuse at the first connection, in the sender thread.

    Raises:
        StoreConfigurationError: the URL cannot be parsed (a bad port, an unknown query
            parameter, an unclosed IPv6 bracket); the message never shows the password.
    """
    from psycopg import Error
    from psycopg.conninfo import conninfo_to_dict

    from tokentrail.stores import StoreConfigurationError

    try:
        urlsplit(url).port  # noqa: B018 - reading the port is what validates it
        settings = conninfo_to_dict(url)
    except (ValueError, Error) as error:
        detail = str(error).strip().splitlines()[0]
        raise StoreConfigurationError(
            mask_secrets(f"the PostgreSQL store URL cannot be used: {detail}")
        ) from None
    if not str(settings.get("connect_timeout", "0")).lstrip("-").isdigit():
        raise StoreConfigurationError(
            "the PostgreSQL store URL cannot be used: connect_timeout must be a whole number "
            "of seconds"
        )


def store_name(url: str) -> str:
    """`postgres-HOST-PORT-DATABASE`: a folder name for the outbox, without credentials."""
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "postgres"
    host = parts.hostname or "local"
    return f"postgres-{host}-{parts.port or 5432}-{database}".replace("/", "_")


def read_types(connection: psycopg.Connection[tuple[object, ...]], table: str) -> dict[str, str]:
    """The table's columns and their types (`format_type` spelling); empty if it is missing."""
    rows = connection.execute(_COLUMNS_QUERY, {"table": table}).fetchall()
    return {str(name): str(kind) for name, kind in rows}


def read_layout(connection: psycopg.Connection[tuple[object, ...]], table: str) -> TableLayout:
    """Discover the table's columns; raises `DeliveryError` (transient) if it does not exist."""
    types = read_types(connection, table)
    if not types:
        raise DeliveryError(
            f"table {table!r} does not exist; create it with `tokentrail store init URL`",
            FailureKind.TRANSIENT,
            code="42P01",
        )
    id_type = types.get("id", "")
    id_writable = id_type.startswith(_WRITABLE_ID_TYPES)
    columns = tuple(
        column for column in COLUMNS if column in types and (column != "id" or id_writable)
    )
    unique_row = connection.execute(_ID_IS_UNIQUE_QUERY, {"table": table}).fetchone()
    idempotent = id_writable and bool(unique_row and unique_row[0])
    left_out = tuple(column for column in COLUMNS if column not in columns)
    return TableLayout(
        columns=columns,
        left_out=left_out,
        idempotent=idempotent,
        types=tuple(types[column] for column in columns),
    )


class PostgresStore:
    """Writes records to a PostgreSQL `token_usage` table; used by the outbox's sender thread.

    Args:
        url: a `postgresql://` or `postgres://` URL (any libpq connection string works).
        table: the table to write, in the connection's search path.
        connect_timeout: seconds to wait for a connection.
        statement_timeout: seconds a batch may take on the server before it is abandoned.
    """

    batch_rows = 2000
    """Rows per write when the journal hands batches over directly: about 1 MB of JSON and
    40 ms on the server. The server's time per row is the same as in batches of 500, but a
    busy process waits for the GIL after every round trip, and there are four times fewer."""

    def __init__(
        self,
        url: str,
        *,
        table: str = TABLE,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
    ) -> None:
        check_url(url)
        self._url = url
        self._password = urlsplit(url).password or ""
        self._table = table
        self._connect_timeout = connect_timeout
        self._statement_timeout_ms = int(statement_timeout * 1000)
        self._connection: psycopg.Connection[tuple[object, ...]] | None = None
        self._connection_pid = os.getpid()
        self._inherited: list[psycopg.Connection[tuple[object, ...]]] = []
        self._layout: TableLayout | None = None
        self._announced: set[str] = set()
        self.name = store_name(url)

    @property
    def display_url(self) -> str:
        """The URL with its password masked, for messages."""
        return mask_secrets(self._url, (self._password,))

    def write(self, records: Sequence[UsageRecord]) -> None:
        """Store `records` in one transaction; raises `DeliveryError` on failure."""
        self.write_payloads([record_to_json(record) for record in records])

    def write_payloads(self, payloads: Sequence[str]) -> None:
        """Store records given as outbox payloads (JSON objects) in one transaction."""
        self._write("[" + ",".join(payloads) + "]")

    def write_rows(self, rows: Sequence[Row]) -> None:
        """Store records given as rows (see `_codec`) in one transaction."""
        self._write(rows_to_json(rows), as_rows=True)

    def _write(self, batch: str, *, as_rows: bool = False) -> None:
        import psycopg

        try:
            connection = self._connect()
            layout = self._discover(connection)
            self._insert(connection, layout, batch, as_rows=as_rows)
        except psycopg.Error as error:
            self._after_error(error)
            raise DeliveryError(
                self._describe(error), kind_of_sqlstate(error.sqlstate), error.sqlstate
            ) from None
        except OSError as error:
            self.close()
            raise DeliveryError(self._describe(error), FailureKind.TRANSIENT) from None

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        """Totals for one organization in `[start, end)`, grouped and summed by the server.

        Uses a connection of its own (the sender's belongs to the sender's thread). Raises
        `psycopg.Error` when the database cannot answer, and `ValueError` for an unknown group.
        """
        import psycopg
        from psycopg.rows import dict_row

        if group_by not in SUMMARY_GROUPS:
            raise ValueError(
                f"group_by must be one of {', '.join(SUMMARY_GROUPS)}, not {group_by!r}"
            )
        query = summary_select(
            self._table, "%(organization)s", "%(start)s", "%(end)s", "%(group_by)s"
        )
        with psycopg.connect(
            self._url, connect_timeout=max(1, round(self._connect_timeout)), row_factory=dict_row
        ) as connection:
            rows = connection.execute(
                query,
                {"organization": organization_id, "start": start, "end": end, "group_by": group_by},
            ).fetchall()
        return [SummaryRow.from_mapping(row) for row in rows]

    def layout(self) -> TableLayout:
        """The table's layout as this store writes it (connects if needed)."""
        return self._discover(self._connect())

    def close(self) -> None:
        """Close the connection; the next `write` reconnects and rereads the layout."""
        connection, self._connection, self._layout = self._connection, None, None
        if connection is not None:
            connection.close()

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        import psycopg

        if self._connection is not None and self._connection_pid != os.getpid():
            # Inherited through fork: the socket is the parent's. Keep the object alive without
            # closing it, since closing would end the parent's session too.
            self._inherited.append(self._connection)
            self._connection = None
        if self._connection is None or self._connection.closed:
            self._connection_pid = os.getpid()
            self._connection = psycopg.connect(
                self._url,
                connect_timeout=max(1, round(self._connect_timeout)),
                application_name="tokentrail",
                autocommit=True,
            )
            self._layout = None
        return self._connection

    def _discover(self, connection: psycopg.Connection[tuple[object, ...]]) -> TableLayout:
        if self._layout is None:
            self._layout = read_layout(connection, self._table)
            self._announce(self._layout)
        return self._layout

    def _announce(self, layout: TableLayout) -> None:
        if layout.left_out and "left_out" not in self._announced:
            self._announced.add("left_out")
            logger.warning(
                "table %s at %s has no writable column for %s; those values are not stored "
                "(run `tokentrail store migrate` to add them)",
                self._table,
                self.display_url,
                ", ".join(layout.left_out),
            )
        if not layout.idempotent and "at_least_once" not in self._announced:
            self._announced.add("at_least_once")
            logger.warning(
                "table %s at %s has no unique, client-written id column: delivery is "
                "at-least-once, so a batch retried after a lost reply can be stored twice "
                "(run `tokentrail store migrate` to add the key)",
                self._table,
                self.display_url,
            )

    def _insert(
        self,
        connection: psycopg.Connection[tuple[object, ...]],
        layout: TableLayout,
        batch: str,
        *,
        as_rows: bool,
    ) -> None:
        """Send the batch as one JSON array, and let the server turn it into rows.

        The server parses the records, so no per-record work is done in Python, and only the
        columns this store writes are filled, so a key such as our UUID never meets a column it
        does not fit (a `bigserial` id). Rows (JSON arrays) are read by position and cast to
        each column's type; payloads (JSON objects) go through a row type that is a temporary
        table, made once per server session inside the transaction, which also works through a
        pooler that hands each transaction to another session.

        The whole transaction is one query, so one round trip: a thread waiting on the network
        gives up the GIL and, in a busy process, waits for it again after every round trip.
        """
        from psycopg import sql

        columns = sql.SQL(", ").join(sql.Identifier(column) for column in layout.columns)
        table = sql.Identifier(self._table)
        setup: sql.Composable
        if as_rows:
            setup = sql.SQL("")
            values = sql.SQL(", ").join(
                _from_position(COLUMNS.index(column), kind)
                for column, kind in zip(layout.columns, layout.types, strict=True)
            )
            records = sql.SQL("jsonb_array_elements({batch}::jsonb) AS e(value)").format(
                batch=sql.Literal(batch)
            )
        else:
            row_type = sql.Identifier(f"tokentrail_row_{layout.fingerprint}")
            setup = sql.SQL(
                "CREATE TEMPORARY TABLE IF NOT EXISTS {row_type} AS "
                "SELECT {columns} FROM {table} WITH NO DATA; "
            ).format(row_type=row_type, columns=columns, table=table)
            values = sql.SQL(", ").join(sql.Identifier("r", column) for column in layout.columns)
            records = sql.SQL(
                "json_populate_recordset(NULL::{row_type}, {batch}::json) AS r"
            ).format(row_type=row_type, batch=sql.Literal(batch))
        conflict = sql.SQL(" ON CONFLICT (id) DO NOTHING" if layout.idempotent else "")
        query = sql.SQL(
            "BEGIN; SET LOCAL statement_timeout = {timeout}; {setup}"
            "INSERT INTO {table} ({columns}) SELECT {values} FROM {records}{conflict}; "
            "COMMIT"
        ).format(
            timeout=sql.Literal(self._statement_timeout_ms),
            setup=setup,
            table=table,
            columns=columns,
            values=values,
            records=records,
            conflict=conflict,
        )
        try:
            connection.execute(query)
        except BaseException:
            _roll_back(connection)
            raise

    def _after_error(self, error: psycopg.Error) -> None:
        sqlstate = error.sqlstate
        broken = self._connection is None or self._connection.broken
        if broken or sqlstate is None or is_transient_sqlstate_class(sqlstate):
            self.close()
        elif sqlstate.startswith("42"):
            # The table changed under us (a column dropped, the table renamed): read it again.
            self._layout = None

    def _describe(self, error: BaseException) -> str:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return mask_secrets(f"{self.display_url}: {detail}", (self._password,))


def _from_position(position: int, kind: str) -> sql.Composable:
    """The row's value at `position` as a column of type `kind` (a server-spelled type)."""
    from psycopg import sql

    # JSON columns take the value as JSON; every other type parses the value's text.
    operator = "->" if kind in {"json", "jsonb"} else "->>"
    return sql.SQL("(e.value {} {})::{}").format(
        sql.SQL(operator), sql.Literal(position), sql.SQL(kind)
    )


def _roll_back(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    """End the transaction a failed batch left open, so the connection can be used again."""
    import psycopg
    from psycopg import pq

    if connection.broken or connection.info.transaction_status == pq.TransactionStatus.IDLE:
        return
    try:
        connection.execute("ROLLBACK")
    except psycopg.Error:
        connection.close()  # the next batch reconnects
