"""Rows, journal lines and outbox payloads describe the same record, whichever way it travels."""

from __future__ import annotations

import json
import json.encoder
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokentrail import UsageRecord
from tokentrail._record import COLUMNS, new_record_id
from tokentrail.stores._codec import (
    _compact_encoder,
    record_from_json,
    record_from_row,
    record_to_json,
    record_to_row,
    row_from_line,
    row_to_line,
    row_to_payload,
    row_to_sql_values,
)

names = st.one_of(st.none(), st.text(max_size=20))
counts = st.integers(min_value=0, max_value=10**9)
records = st.builds(
    UsageRecord,
    created_at=st.datetimes(timezones=st.just(UTC)),
    user_id=names,
    organization_id=names,
    provider=st.text(max_size=20),
    model=st.text(max_size=20),
    tool_name=names,
    input_tokens=counts,
    output_tokens=counts,
    cache_read_tokens=counts,
    requests=counts,
    cost_usd=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=10)),
    status=st.sampled_from(["ok", "error", "cancelled"]),
    request_metadata=st.one_of(
        st.none(), st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5))
    ),
)


@given(records)
def test_a_record_survives_every_form_it_travels_in(record: UsageRecord) -> None:
    row = record_to_row(record)

    assert record_from_row(row) == record
    assert record_from_row(row_from_line(row_to_line(row))) == record
    assert record_from_json(row_to_payload(row)) == record
    assert record_from_json(row_to_line(row)) == record


def test_a_journal_line_written_by_an_older_version_still_reads() -> None:
    record = UsageRecord(model="gpt-4o", cost_usd=Decimal("0.25"), created_at=datetime.now(UTC))

    assert record_from_row(row_from_line(record_to_json(record))) == record


@pytest.mark.parametrize("line", ["[1, 2]", '"text"', "{not json"])
def test_a_line_that_is_not_a_row_is_refused(line: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        row_from_line(line)


def test_sql_values_keep_metadata_as_json_text() -> None:
    record = UsageRecord(request_metadata={"b": 1, "a": [2]})

    values = dict(zip(COLUMNS, row_to_sql_values(record_to_row(record)), strict=True))

    assert values["request_metadata"] == '{"a": [2], "b": 1}'
    assert row_to_sql_values(record_to_row(UsageRecord()))[-1] is None


def test_record_ids_are_version_4_uuids() -> None:
    ids = {new_record_id() for _ in range(1000)}

    assert len(ids) == 1000
    for record_id in ids:
        parsed = uuid.UUID(record_id)
        assert str(parsed) == record_id
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert json.loads(json.dumps(record_id)) == record_id


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_makes_ids_of_its_own() -> None:
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child process
        try:
            os.write(writer, "\n".join(new_record_id() for _ in range(100)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader) as pipe:
        child_ids = set(pipe.read().split("\n"))
    parent_ids = {new_record_id() for _ in range(100)}

    assert len(child_ids) == 100
    assert not child_ids & parent_ids


def test_without_the_c_encoder_lines_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    row = record_to_row(UsageRecord(model="m", request_metadata={"path": Path("/x")}))
    expected = row_to_line(row)
    monkeypatch.setattr(json.encoder, "c_make_encoder", None)  # as without the _json module

    assert _compact_encoder()(row) == expected


def test_a_c_encoder_taking_other_arguments_falls_back_to_the_standard_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = record_to_row(UsageRecord(model="m"))

    def takes_other_arguments(*arguments: object) -> None:
        raise TypeError("c_make_encoder() takes other arguments")

    monkeypatch.setattr(json.encoder, "c_make_encoder", takes_other_arguments)
    encode = _compact_encoder()
    monkeypatch.undo()  # the standard call then uses the encoder this Python really has

    assert encode(row) == row_to_line(row)
