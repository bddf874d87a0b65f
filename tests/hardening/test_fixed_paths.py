"""The file-layer fixes that the subprocess tests found, exercised in-process as well.

The subprocess tests show what a user meets; these keep the same paths measured by coverage,
which does not follow the commands into their subprocesses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tokentrail_codemods._source import SourceError, write_atomically
from tokentrail_lint.config import Config, ConfigError, load_config
from tokentrail_lint.files import select_files


def test_a_pyproject_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.tokentrail]\n# caf\xe9\n")

    with pytest.raises(ConfigError, match=r"is not valid TOML \(not UTF-8 at byte 23\)"):
        load_config(tmp_path)


def test_a_read_only_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "frozen.py"
    path.write_text("x = 1\n")
    path.chmod(0o444)

    with pytest.raises(SourceError, match="is read-only"):
        write_atomically(path, b"x = 2\n")

    assert path.read_text() == "x = 1\n"


def test_a_write_through_a_link_replaces_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "alias.py").symlink_to("real.py")

    write_atomically(tmp_path / "alias.py", b"x = 2\n")

    assert os.readlink(tmp_path / "alias.py") == "real.py"
    assert (tmp_path / "real.py").read_text() == "x = 2\n"


def test_walking_skips_linked_files_but_takes_a_named_link(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "alias.py").symlink_to("real.py")

    walked = select_files([tmp_path], tmp_path, Config())
    named = select_files([tmp_path / "alias.py"], tmp_path, Config())

    assert walked == [tmp_path / "real.py"]
    assert named == [tmp_path / "alias.py"]
