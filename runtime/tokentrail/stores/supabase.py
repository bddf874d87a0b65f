"""The Supabase store: batches of records through supabase-py's sync client.

Each batch is one `POST /rest/v1/token_usage` sent as an upsert that ignores duplicates
(`INSERT ... ON CONFLICT (id) DO NOTHING`), so a batch retried after a lost reply is stored once.
supabase-py never retries a POST, so the outbox's sender does. An older table is learnt from
PostgREST's answers: `PGRST204` names a column the table lacks, which is then left out; `42P10`
says `id` has no unique constraint, and delivery falls back to plain, at-least-once inserts.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from tokentrail._record import COLUMNS, UsageRecord
from tokentrail.stores._codec import Row, record_to_json
from tokentrail.stores._errors import (
    DeliveryError,
    FailureKind,
    kind_of_postgrest_code,
    mask_secrets,
)
from tokentrail.stores._summary import GroupBy, SummaryRow
from tokentrail.stores.schema import SUMMARY_GROUPS, TABLE

if TYPE_CHECKING:
    from postgrest.exceptions import APIError
    from supabase import Client

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 10.0
_MISSING_COLUMN: Final = re.compile(r"Could not find the '(?P<column>[^']+)' column")


def store_name(supabase_url: str) -> str:
    """`supabase-HOST`: a folder name for the outbox, without credentials."""
    return f"supabase-{urlsplit(supabase_url).hostname or 'local'}"


def _require_sync_client(client: object) -> Client:
    from supabase import AsyncClient, Client

    if isinstance(client, AsyncClient):
        raise TypeError(
            "tokentrail needs supabase-py's sync Client, got an AsyncClient: the outbox's sender "
            "is a thread, not a task. Create one with `supabase.create_client(url, key)`."
        )
    if not isinstance(client, Client):
        raise TypeError(
            f"expected a store URL, a store object or a supabase-py Client, got "
            f"{type(client).__name__}"
        )
    return client


class SupabaseStore:
    """Writes records to Supabase's `token_usage` table; used by the outbox's sender thread.

    Args:
        client: a supabase-py sync `Client`, ideally made with the service-role key (row-level
            security lets nobody else insert). Its own PostgREST timeout applies.
        table: the table to write.
    """

    def __init__(self, client: object, *, table: str = TABLE) -> None:
        self._client = _require_sync_client(client)
        self._table = table
        self._secrets = (str(getattr(self._client, "supabase_key", "") or ""),)
        self._columns: tuple[str, ...] = COLUMNS
        self._idempotent = True
        self.name = store_name(str(self._client.supabase_url))

    @classmethod
    def from_environment(cls, *, timeout: float = DEFAULT_TIMEOUT) -> SupabaseStore:
        """The store `supabase://` names: `SUPABASE_URL` with `SUPABASE_SERVICE_ROLE_KEY`.

        Raises:
            ValueError: either variable is unset.
        """
        url = os.environ.get("SUPABASE_URL", "")
        key = os.environ.get("SUPABASE_SERVICE_ROLE_KEY", "")
        missing = [
            name
            for name, value in (("SUPABASE_URL", url), ("SUPABASE_SERVICE_ROLE_KEY", key))
            if not value
        ]
        if missing:
            raise ValueError(
                f"the store supabase:// needs {' and '.join(missing)} in the environment "
                "(the project URL and its service-role key, from the project's API settings)"
            )
        import httpx
        from supabase import ClientOptions, create_client

        # supabase-py waits 120 s by default; its own timeout setting is deprecated in favour of
        # the HTTP client's.
        options = ClientOptions(
            httpx_client=httpx.Client(timeout=timeout),
            auto_refresh_token=False,
            persist_session=False,
        )
        return cls(create_client(url, key, options=options))

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns this store currently writes (fewer once an older table is met)."""
        return self._columns

    @property
    def idempotent(self) -> bool:
        """False once the table turned out to have no unique `id` (at-least-once delivery)."""
        return self._idempotent

    def write(self, records: Sequence[UsageRecord]) -> None:
        """Store `records` in one request; raises `DeliveryError` on failure."""
        self.write_payloads([record_to_json(record) for record in records])

    def write_payloads(self, payloads: Sequence[str]) -> None:
        """Store records given as outbox payloads (JSON objects) in one request."""
        self._write([json.loads(payload) for payload in payloads])

    def write_rows(self, rows: Sequence[Row]) -> None:
        """Store records given as rows (see `_codec`) in one request."""
        self._write([dict(zip(COLUMNS, row, strict=True)) for row in rows])

    def _write(self, values: list[dict[str, Any]]) -> None:
        import httpx
        from postgrest.exceptions import APIError

        dropped: list[str] = []
        try:
            while True:
                try:
                    self._send(values)
                    return
                except APIError as error:
                    if self._adapt(error, values, dropped):
                        continue
                    kind = kind_of_postgrest_code(error.code)
                    raise DeliveryError(self._describe(error), kind, error.code) from None
                except httpx.HTTPError as error:
                    message = f"{self.name}: {type(error).__name__}: {error}"
                    raise DeliveryError(
                        mask_secrets(message, self._secrets), FailureKind.TRANSIENT
                    ) from None
        finally:
            if dropped:
                logger.warning(
                    "table %s on %s has no writable column for %s; those values are not stored "
                    "(run `tokentrail store migrate` and apply the SQL it prints)",
                    self._table,
                    self.name,
                    ", ".join(dropped),
                )

    def summary(
        self, organization_id: str, start: datetime, end: datetime, group_by: GroupBy = "day"
    ) -> list[SummaryRow]:
        """Totals for one organization in `[start, end)`, through `token_usage_summary`.

        The SQL function (in the migration) aggregates in the database, under the caller's
        row-level security. Raises supabase-py's errors when the project cannot answer, and
        `ValueError` for an unknown group.
        """
        if group_by not in SUMMARY_GROUPS:
            raise ValueError(
                f"group_by must be one of {', '.join(SUMMARY_GROUPS)}, not {group_by!r}"
            )
        arguments = {
            "p_organization_id": organization_id,
            "p_start": start.isoformat(),
            "p_end": end.isoformat(),
            "p_group_by": group_by,
        }
        response = self._client.rpc(f"{self._table}_summary", arguments).execute()
        rows = response.data if isinstance(response.data, list) else []
        return [SummaryRow.from_mapping(row) for row in rows if isinstance(row, Mapping)]

    def close(self) -> None:
        """Nothing to release: the client belongs to whoever made it."""

    def _send(self, values: Sequence[dict[str, Any]]) -> None:
        from postgrest.types import ReturnMethod

        rows = [{column: row.get(column) for column in self._columns} for row in values]
        table = self._client.table(self._table)
        if self._idempotent:
            query = table.upsert(
                rows, on_conflict="id", ignore_duplicates=True, returning=ReturnMethod.minimal
            )
        else:
            query = table.insert(rows, returning=ReturnMethod.minimal)
        query.execute()

    def _adapt(self, error: APIError, values: Sequence[dict[str, Any]], dropped: list[str]) -> bool:
        """Adjust to an older table if `error` says how; True means "send again".

        Each column is dropped at most once per write, so a confused server cannot loop us.
        """
        column = self._column_to_drop(error, values)
        if column is not None and column in self._columns and column not in dropped:
            dropped.append(column)
            self._columns = tuple(name for name in self._columns if name != column)
            if column == "id":
                self._use_plain_inserts()
            return True
        if error.code == "42P10" and self._idempotent:
            self._use_plain_inserts()
            return True
        return False

    @staticmethod
    def _column_to_drop(error: APIError, values: Sequence[dict[str, Any]]) -> str | None:
        if error.code == "PGRST204":
            match = _MISSING_COLUMN.search(error.message or "")
            return match["column"] if match else None
        # An older table whose `id` is a server-made number refuses our UUIDs: quoting one of
        # them in a type error says the `id` column is not ours to write.
        message = error.message or ""
        if error.code == "22P02" and any(f'"{row.get("id")}"' in message for row in values):
            return "id"
        return None

    def _use_plain_inserts(self) -> None:
        self._idempotent = False
        logger.warning(
            "table %s on %s has no unique id column: delivery is at-least-once, so a batch "
            "retried after a lost reply can be stored twice (run `tokentrail store migrate`)",
            self._table,
            self.name,
        )

    def _describe(self, error: APIError) -> str:
        parts = [f"{self.name}: {error.code or 'error'}: {error.message or ''}".rstrip()]
        if error.details:
            parts.append(str(error.details))
        return mask_secrets(" ".join(parts), self._secrets)
