"""Caller plumbing: the places that create tracked services, rewritten and reported.

Each project under `fixtures/callers/<case>/before` is copied, rewritten by the real codemod with
caller plumbing on, and compared file by file with `after`; a second run must change nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tokentrail_codemods import apply
from tokentrail_codemods._summary import summary_lines
from tokentrail_codemods.cli import main
from tokentrail_lint.config import ConfigError, load_config

CALLERS = Path(__file__).parent / "fixtures" / "callers"
CASES = sorted(case.name for case in CALLERS.iterdir() if case.is_dir())

WriteFile = Callable[[str, str], Path]

SERVICE = """\
from pydantic_ai import Agent


class Writer:
    def __init__(self) -> None:
        self.agent = Agent("test")

    def write(self, topic: str) -> str:
        return self.agent.run_sync(topic).output
"""


def _python_files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text()
        for path in sorted(folder.rglob("*.py"))
        if ".tokentrail" not in path.parts
    }


def _copy(case: str, side: str, destination: Path) -> Path:
    project = destination / case
    shutil.copytree(CALLERS / case / side, project)
    return project


@pytest.mark.parametrize("case", CASES)
def test_the_rewrite_matches_the_after_project(case: str, tmp_path: Path) -> None:
    project = _copy(case, "before", tmp_path)

    result = apply([project], write=True, callers=True)

    assert not result.errors
    assert _python_files(project) == _python_files(CALLERS / case / "after")


@pytest.mark.parametrize("case", CASES)
def test_a_second_run_changes_nothing(case: str, tmp_path: Path) -> None:
    project = _copy(case, "after", tmp_path)

    result = apply([project], write=True, callers=True)

    assert result.changed == []
    assert result.callers_set_up == 0
    assert result.pages_bound == 0


def test_without_callers_only_the_services_change(tmp_path: Path) -> None:
    project = _copy("identity", "before", tmp_path)

    result = apply([project], write=False, callers=False)

    assert [change.path.name for change in result.changed] == ["catalog.py"]
    assert result.caller_notes == []


def test_the_summary_names_each_site_that_needs_a_person(tmp_path: Path) -> None:
    project = _copy("plain", "before", tmp_path)

    result = apply([project], write=False, callers=True)

    notes = {(note.path.name, note.line): note.message for note in result.caller_notes}
    assert set(notes) == {("getters.py", 40), ("home.py", 5)}
    assert "cannot be rewritten safely" in notes["getters.py", 40]
    assert "set identity-function" in notes["home.py", 5]
    assert result.callers_set_up == 3


def test_only_the_given_paths_are_written_and_the_rest_is_listed(tmp_path: Path) -> None:
    project = _copy("plain", "before", tmp_path)
    getters = project / "app" / "getters.py"
    before = getters.read_bytes()

    result = apply([project / "app" / "pages"], write=True, callers=True)

    assert getters.read_bytes() == before
    elsewhere = [note for note in result.caller_notes if note.path == getters]
    assert {note.line for note in elsewhere} == {15, 30, 36}
    assert all("`tokentrail codemod app/getters.py`" in note.message for note in elsewhere)


def test_a_setup_on_a_shared_instance_is_reported(write_file: WriteFile, project: Path) -> None:
    write_file("service.py", SERVICE)
    write_file(
        "getters.py",
        "import functools\n\nfrom tokentrail import setup_tracking_context\n\n"
        "from service import Writer\n\n\n@functools.cache\ndef get_writer() -> Writer:\n"
        "    writer = Writer()\n    setup_tracking_context(writer, user_id='u1')\n"
        "    return writer\n",
    )

    result = apply([project], write=False, callers=True)

    [note] = result.caller_notes
    assert note.path.name == "getters.py"
    assert "shared between users" in note.message


def test_a_name_already_taken_is_not_reused(write_file: WriteFile, project: Path) -> None:
    write_file("service.py", SERVICE)
    path = write_file(
        "handler.py",
        "from service import Writer\n\n\ndef handle(service: str, writer: str) -> str:\n"
        "    return Writer().write(service + writer)\n",
    )

    apply([project], write=True, callers=True)

    assert "    service_2 = Writer()\n    setup_tracking_context(service_2)\n" in path.read_text()


def test_check_and_diff_report_caller_edits(
    write_file: WriteFile,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(project)
    write_file("service.py", SERVICE)
    apply([project / "service.py"], write=True)
    handler = "from service import Writer\n\n\ndef make() -> Writer:\n    return Writer()\n"
    write_file("handler.py", handler)
    capsys.readouterr()

    assert main(["--check", "handler.py"]) == 1
    assert "would rewrite handler.py" in capsys.readouterr().out
    assert main(["--diff", "handler.py"]) == 1
    assert "+    setup_tracking_context(service)" in capsys.readouterr().out
    assert main(["--no-callers", "--check", "handler.py"]) == 0
    assert main(["handler.py"]) == 0
    assert main(["--check", "handler.py"]) == 0


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('setup-import = "my app.tracking"', "setup-import"),
        ('setup-import = "app.tracking:"', "setup-import"),
        ('identity-function = "app.auth"', "identity-function"),
        ("identity-function = 3", "identity-function"),
    ],
)
def test_bad_caller_settings_are_configuration_errors(tmp_path: Path, line: str, key: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.tokentrail]\n{line}\n")

    with pytest.raises(ConfigError, match="must be") as raised:
        load_config(tmp_path)

    assert raised.value.key == key


def test_caller_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tokentrail]\nsetup-import = "app.tracking:attach"\n'
        'identity-function = "app.auth:current_identity"\n'
    )

    config = load_config(tmp_path)

    assert config.setup_import == "app.tracking:attach"
    assert config.identity_function == "app.auth:current_identity"


def test_a_subclass_of_a_class_plumbed_in_this_run_is_set_up_in_the_same_run(
    write_file: WriteFile, project: Path
) -> None:
    write_file("service.py", SERVICE)
    write_file("special.py", "from service import Writer\n\n\nclass Special(Writer):\n    pass\n")
    getter = write_file(
        "getter.py",
        "from special import Special\n\n\ndef make() -> Special:\n    return Special()\n",
    )

    first = apply([project], write=True, callers=True)
    second = apply([project], write=True, callers=True)

    assert first.callers_set_up == 1
    assert "    setup_tracking_context(service)\n" in getter.read_text()
    assert second.changed == []


@pytest.mark.parametrize(
    "body",
    [
        "    return [Writer().write(topic) for topic in topics]\n",
        "    return (lambda: Writer().write(topics[0]))()\n",
        "    return Writer().write(topics[0]) if topics else ''\n",
        "    return topics and Writer().write(topics[0])\n",
        "    while Writer().write(topics[0]):\n        return 'again'\n",
        "    x = 1; Writer().write(topics[0])\n",
    ],
)
def test_an_inline_use_that_cannot_move_is_reported_not_rewritten(
    write_file: WriteFile, project: Path, body: str
) -> None:
    write_file("service.py", SERVICE)
    path = write_file(
        "handler.py",
        "from service import Writer\n\n\ndef handle(topics: list[str]) -> object:\n" + body,
    )
    apply([project / "service.py"], write=True)
    before = path.read_text()

    result = apply([path], write=True, callers=True)

    assert path.read_text() == before
    [note] = result.caller_notes
    assert "cannot be rewritten safely" in note.message


def test_the_summary_counts_caller_plumbing(tmp_path: Path) -> None:
    project = _copy("identity", "before", tmp_path)

    result = apply([project], write=False, callers=True)
    lines = summary_lines(result, project)

    assert "2 places that create a per-request service now set up its context." in lines
    assert "1 page now binds the tracking context at the top." in lines
    assert lines.index(
        "1 place that creates or uses a tracked service needs your attention:"
    ) < lines.index("  shop/api/routes.py:14:12: " + result.caller_notes[0].message)


def test_a_service_made_by_another_service_gets_its_makers_context(
    write_file: WriteFile, project: Path
) -> None:
    write_file("service.py", SERVICE)
    path = write_file(
        "editor.py",
        "from pydantic_ai import Agent\n\nfrom service import Writer\n\n\n"
        "class Editor:\n    def __init__(self) -> None:\n        self.agent = Agent('test')\n\n"
        "    def edit(self, topic: str) -> str:\n        writer = Writer()\n"
        "        return self.agent.run_sync(writer.write(topic)).output\n",
    )

    apply([project], write=True, callers=True)

    assert (
        "        writer = Writer()\n"
        "        setup_tracking_context(\n"
        "            writer,\n"
        "            tracker=self._tracker,\n"
        "            user_id=self._user_id,\n"
        "            organization_id=self._org_id,\n"
        "        )\n"
    ) in path.read_text()
    assert apply([project], write=True, callers=True).changed == []


def test_notes_about_a_written_file_point_into_its_new_text(tmp_path: Path) -> None:
    project = _copy("plain", "before", tmp_path)

    result = apply([project], write=True, callers=True)

    note = next(note for note in result.caller_notes if note.path.name == "getters.py")
    lines = (project / "app" / "getters.py").read_text().splitlines()
    assert (note.line, note.column) == (45, 13)
    assert lines[note.line - 1][note.column - 1 :].startswith("WriterService().write(topic)")


def test_a_module_that_only_defines_a_singleton_is_not_a_page(
    write_file: WriteFile, project: Path
) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.tokentrail]\nidentity-function = "auth:who"\n\n[tool.ruff]\nline-length = 100\n'
    )
    write_file("auth.py", "def who() -> None:\n    return None\n")
    write_file("service.py", SERVICE)
    write_file(
        "getters.py",
        "import functools\n\nfrom service import Writer\n\n\n@functools.cache\n"
        "def shared() -> Writer:\n    return Writer()\n",
    )
    library = write_file("library.py", "from getters import shared\n\nWRITER = shared()\n")
    page = write_file(
        "page.py", "from getters import shared\n\nwriter = shared()\nprint(writer.write('tea'))\n"
    )

    result = apply([project], write=True, callers=True)

    assert "bind_tracking_context" not in library.read_text()
    assert "bind_tracking_context(who)\n" in page.read_text()
    assert result.pages_bound == 1
