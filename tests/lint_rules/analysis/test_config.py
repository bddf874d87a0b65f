"""`[tool.tokentrail]`: every key read, unknown keys and broken files rejected by name."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tokentrail_lint.config import (
    DEFAULT_EXCLUDE,
    Config,
    ConfigError,
    find_project_root,
    load_config,
)


def _write(root: Path, text: str, name: str = "pyproject.toml") -> Path:
    path = root / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_is_read(tmp_path: Path) -> None:
    _write(
        tmp_path,
        """
[tool.tokentrail]
agent-types = ["app.llm.TracedAgent"]
agent_factories = ["app.llm.build"]
wrappers = ["app.metering.metered_run"]
include = ["*.py"]
exclude = ["generated"]
extend-exclude = ["legacy/*.py"]
respect-gitignore = false
select = ["tt001"]
extend-select = ["TT002"]
ignore = ["TT006"]
tool-name = "class"
setup-import = "app.tracking"
line-length = 120

[tool.tokentrail.per-file-ignores]
"tests/**" = ["TT001", "tt006"]

[tool.tokentrail.tool-name-overrides]
"app.services.Scripts" = "scripts"

[tool.tokentrail.operation-overrides]
"app.services.Scripts.handle" = "generate"
""",
    )

    config = load_config(tmp_path)

    assert config.agent_types == {"app.llm.TracedAgent"}
    assert config.agent_type_names == {"TracedAgent"}
    assert config.agent_factories == {"app.llm.build"}
    assert config.wrappers == {"app.metering.metered_run"}
    assert config.include == ("*.py",)
    assert config.exclude == ("generated",)
    assert config.extend_exclude == ("legacy/*.py",)
    assert config.respect_gitignore is False
    assert config.select == frozenset({"TT001"})
    assert config.extend_select == {"TT002"}
    assert config.ignore == {"TT006"}
    assert dict(config.per_file_ignores) == {"tests/**": {"TT001", "TT006"}}
    assert config.tool_name == "class"
    assert dict(config.tool_name_overrides) == {"app.services.Scripts": "scripts"}
    assert dict(config.operation_overrides) == {"app.services.Scripts.handle": "generate"}
    assert config.setup_import == "app.tracking"
    assert config.line_length == 120
    assert config.source == tmp_path / "pyproject.toml"


def test_defaults_without_a_pyproject(tmp_path: Path) -> None:
    config = load_config(tmp_path)

    assert config == Config()
    assert config.exclude == DEFAULT_EXCLUDE
    assert config.line_length == 88
    assert config.source is None


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    _write(tmp_path, '[tool.tokentrail]\nagent-type = ["x.Y"]\n')

    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)

    assert raised.value.key == "agent-type"
    assert raised.value.path == tmp_path / "pyproject.toml"
    assert "'agent-type'" in str(raised.value)
    assert "Did you mean 'agent-types'?" in raised.value.message


def test_the_same_key_spelt_twice_is_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "[tool.tokentrail]\nagent-types = []\nagent_types = []\n")

    with pytest.raises(ConfigError, match="same setting") as raised:
        load_config(tmp_path)

    assert raised.value.key == "agent_types"


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    pyproject = _write(tmp_path, "[tool.tokentrail\nwrappers = [\n")

    with pytest.raises(ConfigError, match="is not valid TOML") as raised:
        load_config(tmp_path)

    assert str(pyproject) in str(raised.value)
    assert raised.value.key is None


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('wrappers = "app.track"', "wrappers"),
        ("include = [1]", "include"),
        ('tool-name = "function"', "tool-name"),
        ("line-length = 0", "line-length"),
        ("line-length = true", "line-length"),
        ('respect-gitignore = "yes"', "respect-gitignore"),
        ('setup-import = ""', "setup-import"),
        ('per-file-ignores = ["x"]', "per-file-ignores"),
        ("tool-name-overrides = { Cls = 3 }", "Cls"),
    ],
)
def test_values_of_the_wrong_type_are_rejected(tmp_path: Path, line: str, key: str) -> None:
    _write(tmp_path, f"[tool.tokentrail]\n{line}\n")

    with pytest.raises(ConfigError, match="must be") as raised:
        load_config(tmp_path)

    assert raised.value.key == key


def test_a_tool_table_that_is_not_a_table_is_rejected(tmp_path: Path) -> None:
    _write(tmp_path, 'tool = "nothing"\n')

    with pytest.raises(ConfigError, match="must be a table"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[tool.tokentrail]\nline-length = 77\n"}, 77),
        ({"pyproject.toml": "[tool.ruff]\nline-length = 101\n"}, 101),
        ({"pyproject.toml": "[tool.black]\nline-length = 79\n"}, 79),
        (
            {
                "pyproject.toml": "[tool.black]\nline-length = 79\n",
                "ruff.toml": "line-length = 110\n",
            },
            110,
        ),
        (
            {
                ".ruff.toml": "indent-width = 4\n",
                "pyproject.toml": "[tool.ruff]\nline-length = 99\n",
            },
            99,
        ),
        ({"pyproject.toml": "[project]\nname = 'x'\n"}, 88),
    ],
)
def test_line_length_falls_back_to_the_formatters(
    tmp_path: Path, files: dict[str, str], expected: int
) -> None:
    for name, text in files.items():
        _write(tmp_path, text, name)

    assert load_config(tmp_path).line_length == expected


def test_a_broken_ruff_toml_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "line-length = \n", "ruff.toml")

    with pytest.raises(ConfigError, match=r"ruff\.toml"):
        load_config(tmp_path)


def test_root_is_the_nearest_pyproject_with_a_tokentrail_table(tmp_path: Path) -> None:
    _write(tmp_path, "[tool.tokentrail]\n")
    inner = tmp_path / "packages" / "inner"
    inner.mkdir(parents=True)
    _write(inner, "[project]\nname = 'inner'\n")
    (inner / "module.py").write_text("", encoding="utf-8")

    assert find_project_root(inner / "module.py") == tmp_path
    assert find_project_root(inner) == tmp_path


def test_root_falls_back_to_the_git_root_then_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = tmp_path / "repository"
    (repository / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    outside = tmp_path / "loose"
    outside.mkdir()
    monkeypatch.chdir(outside)

    assert find_project_root(repository / "src") == repository
    assert find_project_root(outside) == outside


def test_configs_are_hashable_values(tmp_path: Path) -> None:
    _write(tmp_path, '[tool.tokentrail.per-file-ignores]\n"tests/*" = ["TT001"]\n')

    first, second = load_config(tmp_path), load_config(tmp_path)

    assert first == second
    assert len({first, second, Config()}) == 2
