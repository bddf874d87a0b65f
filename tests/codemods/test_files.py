"""Files the way editors and platforms leave them: BOM, CRLF, coding lines, broken files."""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tokentrail_codemods import apply
from tokentrail_codemods.cli import main

SOURCE = """\
from pydantic_ai import Agent

agent = Agent("test")


def answer(prompt: str) -> str:
    return agent.run_sync(prompt).output
"""


def test_byte_order_mark_and_crlf_are_kept(project: Path) -> None:
    path = project / "service.py"
    path.write_bytes(codecs.BOM_UTF8 + SOURCE.replace("\n", "\r\n").encode())

    apply([path], write=True)

    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :]
    assert b"run_agent_sync_with_tracking(" in body
    assert body.count(b"\n") == body.count(b"\r\n")
    assert b"from tokentrail import run_agent_sync_with_tracking\r\n" in body


def test_pep_263_coding_line_is_honoured(project: Path) -> None:
    path = project / "service.py"
    text = "# -*- coding: latin-1 -*-\n" + SOURCE.replace('"test")', '"test")  # café')
    path.write_bytes(text.encode("latin-1"))

    result = apply([path], write=True)

    assert result.errors == []
    written = path.read_bytes()
    assert "# café".encode("latin-1") in written
    assert b"run_agent_sync_with_tracking(" in written
    written.decode("latin-1")  # still the file's own encoding


def test_mode_is_kept_and_no_temporary_files_remain(project: Path) -> None:
    path = project / "service.py"
    path.write_text(SOURCE)
    path.chmod(0o750)

    apply([path], write=True)

    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert sorted(entry.name for entry in project.iterdir() if entry.suffix != ".toml") == [
        ".tokentrail",
        "service.py",
    ]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("broken.py", b"from pydantic_ai import Agent\n\ndef broken(:\n    pass\n"),
        ("latin.py", "from pydantic_ai import Agent\nname = 'café'\n".encode("latin-1")),
    ],
)
def test_unprocessable_file_is_untouched_and_exits_2(
    name: str,
    data: bytes,
    write_file: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = write_file("service.py", SOURCE)
    bad = good.parent / name
    bad.write_bytes(data)
    monkeypatch.chdir(good.parent)

    code = main([str(good.parent)])

    assert code == 2
    assert bad.read_bytes() == data
    assert "run_agent_sync_with_tracking" in good.read_text()  # the other file is still done
    error = capsys.readouterr().err
    assert f"error: {name}" in error


def test_unwritable_file_is_reported_and_left_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project / "service.py"
    path.write_text(SOURCE)

    def refuse(source: str, destination: str) -> None:
        raise PermissionError(13, "Permission denied", destination)

    monkeypatch.setattr(os, "replace", refuse)
    result = apply([path], write=True)

    assert [error.path for error in result.errors] == [path]
    assert "cannot be written (Permission denied)" in result.errors[0].message
    assert result.changed == []
    assert path.read_text() == SOURCE
    assert [
        entry.name for entry in project.iterdir() if entry.name.startswith(".service.py.")
    ] == []
