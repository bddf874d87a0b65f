"""`tokentrail check` end to end on a small real project, through the real analysis."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs are installed; only used in tests
import pytest

from tokentrail_lint.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "service_project"
SCHEMA = Path(__file__).parent / "sarif-schema-2.1.0.json"
WRITER = "services/writer_service.py"
UNTRACKED_LINE = "services/writer_service.py:13:24: TT001 untracked agent run `self.agent.run(...)`"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fixture project, as the working directory."""
    root = tmp_path / "service_project"
    shutil.copytree(FIXTURE, root)
    monkeypatch.chdir(root)
    return root


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _add_settings(root: Path, settings: str) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + settings, encoding="utf-8")


def test_text_names_the_untracked_run_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(UNTRACKED_LINE)
    assert out.splitlines()[-1] == "Found 1 finding (1 error)."


def test_tracked_and_unrelated_files_pass(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["services/report_service.py", "services/helpers.py"]) == 0
    assert capsys.readouterr().out == "All checks passed.\n"


def test_json_lists_the_finding(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "json", "services"]) == 1
    [finding] = json.loads(capsys.readouterr().out)
    assert {key: finding[key] for key in ("path", "line", "column", "code")} == {
        "path": WRITER,
        "line": 13,
        "column": 24,
        "code": "TT001",
    }
    assert (finding["end_line"], finding["end_column"]) == (13, 45)


def test_sarif_from_a_real_run_is_valid(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(project, "services/broken.py", "from pydantic_ai import Agent\n\ndef broken(:\n")
    assert main(["--format", "sarif", "services"]) == 2
    log = json.loads(capsys.readouterr().out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft4Validator(schema).iter_errors(log)) == []
    results = log["runs"][0]["results"]
    assert [result["ruleId"] for result in results] == ["TT000", "TT001"]


def test_github_annotations(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--format", "github", "services"]) == 1
    assert capsys.readouterr().out.startswith(
        f"::error file={WRITER},line=13,col=24,endLine=13,endColumn=45,title=tokentrail TT001::"
    )


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_an_unparsable_file_is_tt000_in_every_format_and_the_rest_is_checked(
    project: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    _write(
        project, "services/broken.py", "from pydantic_ai import Agent\n\ndef broken(:\n    pass\n"
    )
    assert main(["--format", output_format, "services"]) == 2
    captured = capsys.readouterr()
    assert "TT000" in captured.out
    assert "TT001" in captured.out
    assert "services/broken.py" in captured.err
    assert captured.err.startswith("error: ")


def test_noqa_suppresses_the_named_code(project: Path) -> None:
    path = project / WRITER
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("await self.agent.run(topic)", "await self.agent.run(topic)  # noqa: TT001"),
        encoding="utf-8",
    )
    assert main(["services"]) == 0
    path.write_text(
        text.replace("await self.agent.run(topic)", "await self.agent.run(topic)  # noqa: TT006"),
        encoding="utf-8",
    )
    assert main(["services"]) == 1


def test_per_file_ignores_from_pyproject(project: Path) -> None:
    _add_settings(
        project, '\n[tool.tokentrail.per-file-ignores]\n"services/writer_*.py" = ["TT001"]\n'
    )
    assert main(["services"]) == 0


def test_baseline_round_trip_survives_line_shifts_and_blocks_new_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = project / "baseline.json"
    assert main(["--write-baseline", str(baseline), "services"]) == 0
    assert main(["--baseline", str(baseline), "services"]) == 0
    assert "1 more hidden by the baseline" in capsys.readouterr().out

    path = project / WRITER
    text = path.read_text(encoding="utf-8")
    shifted = text.replace('"""Writes articles', '"""\n\n\nWrites articles', 1)
    path.write_text(shifted, encoding="utf-8")
    assert main(["--baseline", str(baseline), "services"]) == 0

    path.write_text(
        shifted
        + "\n    async def retitle(self, title: str) -> str:\n"
        + "        result = await self.agent.run(title)\n"
        + "        return result.output\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["--baseline", str(baseline), "services"]) == 1
    [line] = [line for line in capsys.readouterr().out.splitlines() if "TT001" in line]
    assert line.startswith(f"{WRITER}:24:")


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ("selct = []\n", "selct"),
        ('select = ["TT999"]\n', "tool.tokentrail.select"),
        ("select = 3\n", "select"),
    ],
)
def test_configuration_errors_name_the_key_and_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], settings: str, named: str
) -> None:
    _add_settings(project, settings)
    assert main(["services"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert named in err


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--format", "xml", "services"], "--format"),
        (["--select", "TT01", "services"], "--select"),
        (["--baseline", "missing.json", "services"], "missing.json"),
        (["no-such-folder"], "no-such-folder"),
    ],
)
def test_usage_errors_exit_2(
    project: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], named: str
) -> None:
    assert main(arguments) == 2
    assert named in capsys.readouterr().err


def test_excludes_apply_to_paths_passed_explicitly(project: Path) -> None:
    generated = _write(
        project, "build/generated.py", (project / WRITER).read_text(encoding="utf-8")
    )
    vendored = _write(project, "vendored/copy.py", (project / WRITER).read_text(encoding="utf-8"))
    _add_settings(project, 'extend-exclude = ["vendored"]\n')
    assert main([str(generated), str(vendored)]) == 0
    assert main([str(project / WRITER)]) == 1


def test_warnings_and_infos_do_not_fail_unless_asked(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        project,
        "services/web.py",
        'from pydantic_ai import Agent\n\napp = Agent("test").to_web()\n',
    )
    assert main(["services/web.py"]) == 0
    assert capsys.readouterr().out.endswith(
        ": TT005 `to_web` runs the agent where no tracking "
        "wrapper reaches: those runs are not metered\n"
        "Found 1 finding (1 warning).\n"
    )
    assert main(["services"]) == 1
    assert capsys.readouterr().out.endswith("Found 2 findings (1 error, 1 warning).\n")
    assert main(["--fail-on", "warning", "services/web.py"]) == 1
    assert main(["--ignore", "TT005", "--fail-on", "info", "services/web.py"]) == 0


def test_tt002_runs_only_when_selected(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(
        project,
        "services/stale.py",
        "from services.agents import writer_agent\n"
        "from tokentrail import run_agent_sync_with_tracking\n\n\n"
        "def condense(notes: str) -> str:\n"
        "    return run_agent_sync_with_tracking(\n"
        '        writer_agent, notes, tool_name="stale", operation="summarize"\n'
        "    ).output\n",
    )
    assert main(["services/stale.py"]) == 0
    assert main(["--extend-select", "TT002", "services/stale.py"]) == 1
    assert "TT002" in capsys.readouterr().out


def test_fix_applies_the_codemod_and_exits_0_when_nothing_remains(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--fix", "services"]) == 0
    assert "run_agent_with_tracking(" in (project / WRITER).read_text(encoding="utf-8")
    assert "Fixed 1 agent run in 1 file." in capsys.readouterr().err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--write-baseline" in capsys.readouterr().out


def test_a_check_imports_neither_libcst_nor_the_application_stack(project: Path) -> None:
    script = (
        "import sys\n"
        "from tokentrail._cli import main\n"
        "main(['check', '--help'])\n"
        "main(['check', 'services'])\n"
        "heavy = {'pydantic_ai', 'genai_prices', 'supabase', 'psycopg', 'libcst'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=project, capture_output=True, text=True, check=False
    )
    assert completed.stdout.splitlines()[-1] == "[]", completed.stderr


def test_fix_exits_1_when_something_remains(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        project,
        "services/slotted.py",
        "from pydantic_ai import Agent\n\n\n"
        "class SlottedService:\n"
        '    __slots__ = ("agent",)\n\n'
        "    def __init__(self) -> None:\n"
        '        self.agent = Agent("test")\n\n'
        "    def answer(self, question: str) -> str:\n"
        "        return self.agent.run_sync(question).output\n",
    )
    assert main(["--fix", "services/slotted.py"]) == 1
    out = capsys.readouterr().out
    assert "TT001" not in out
    assert "services/slotted.py:5:1: TT003 class `SlottedService` runs agents" in out
    assert "run_agent_sync_with_tracking(" in (project / "services/slotted.py").read_text(
        encoding="utf-8"
    )
