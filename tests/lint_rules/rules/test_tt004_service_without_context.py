"""TT004 and the analysis behind it: where tracked services are created, and how they are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokentrail_lint.analysis import CreationKind, analyze
from tokentrail_lint.config import Config
from tokentrail_lint.engine import RuleSettings, check_files

SERVICE = """\
from pydantic_ai import Agent
from tokentrail import run_agent_sync_with_tracking


class Writer:
    _user_id: str | None = None

    def write(self, topic: str) -> str:
        agent = Agent("test")
        return run_agent_sync_with_tracking(agent, topic, user_id=self._user_id).output

    def set_tracking_context(self, tracker, user_id, org_id) -> None:
        self._user_id = user_id


class Plain:
    def write(self, topic: str) -> str:
        return topic
"""


def _project(tmp_path: Path, caller: str, extra: dict[str, str] | None = None) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.tokentrail]\n")
    (tmp_path / "service.py").write_text(SERVICE)
    for name, text in (extra or {}).items():
        (tmp_path / name).write_text(text)
    path = tmp_path / "caller.py"
    path.write_text("from service import Plain, Writer\n" + caller)
    return path


def _tt004(tmp_path: Path, caller: str, extra: dict[str, str] | None = None) -> list[str]:
    path = _project(tmp_path, caller, extra)
    project = analyze([path], root=tmp_path, config=Config(), use_cache=False)
    findings = check_files(project.files, tmp_path, RuleSettings.from_selection(None))
    return [f"{finding.span.line}: {finding.message}" for finding in findings]


def _kinds(tmp_path: Path, caller: str) -> list[tuple[int, CreationKind, bool]]:
    path = _project(tmp_path, caller)
    [file] = analyze([path], root=tmp_path, config=Config(), use_cache=False).files
    assert file.callers is not None
    return [(site.span.line, site.kind, site.set_up) for site in file.callers.creations]


def test_each_way_of_keeping_an_instance_is_told_apart(tmp_path: Path) -> None:
    caller = (
        "import functools\n"  # 2
        "import streamlit as st\n"
        "SHARED = Writer()\n"  # 4
        "def make():\n"
        "    return Writer()\n"  # 6
        "@functools.lru_cache(maxsize=None)\n"
        "def cached():\n"
        "    return Writer()\n"  # 9
        "@st.cache_resource\n"
        "def resource():\n"
        "    return Writer()\n"  # 12
        "def handle(app):\n"
        "    writer = Writer()\n"  # 14
        "    app.state.writer = Writer()\n"  # 15
        "    self_made = Writer().write('x')\n"  # 16
        "    keep(Writer())\n"  # 17
        "    return writer, self_made\n"
        "def remember():\n"
        "    global SHARED\n"
        "    SHARED = Writer()\n"  # 21
        "def keep(writer):\n"
        "    return Plain()\n"  # not a tracked service: not reported
    )

    assert _kinds(tmp_path, caller) == [
        (4, CreationKind.SHARED, False),
        (6, CreationKind.GETTER, False),
        (9, CreationKind.CACHED_GETTER, False),
        (12, CreationKind.CACHED_GETTER, False),
        (14, CreationKind.ASSIGNMENT, False),
        (15, CreationKind.SHARED, False),
        (16, CreationKind.INLINE, False),
        (17, CreationKind.OTHER, False),
        (21, CreationKind.SHARED, False),
    ]


def test_a_per_request_instance_without_setup_is_reported(tmp_path: Path) -> None:
    findings = _tt004(tmp_path, "def handle():\n    writer = Writer()\n    return writer\n")

    assert findings == [
        "3: `Writer` is created without its tracking context: call `setup_tracking_context(...)`"
        " on it (`tokentrail codemod` adds the call)"
    ]


@pytest.mark.parametrize(
    "caller",
    [
        "from tokentrail import setup_tracking_context\n"
        "def handle():\n    writer = Writer()\n    setup_tracking_context(writer)\n",
        "def handle():\n    writer = Writer()\n    writer.set_tracking_context(None, 'u', 'o')\n",
        "from tokentrail import tracking_context\n"
        "def handle():\n    with tracking_context(user_id='u'):\n        Writer().write('x')\n",
        "from tokentrail import tracking_job\n"
        "@tracking_job()\ndef job():\n    return Writer().write('x')\n",
        "from tokentrail import bind_tracking_context\n"
        "bind_tracking_context(user_id='u')\ndef page():\n    return Writer().write('x')\n",
        "from helpers import signed_in\n"
        "def handle():\n    with signed_in():\n        return Writer().write('x')\n",
        "def handle():\n    return Plain()\n",
        "def handle():\n    writer = Writer()  # noqa: TT004\n    return writer\n",
        "print(Writer().write('module level code of a page'))\n",
    ],
)
def test_instances_with_context_or_without_plumbing_are_not_reported(
    tmp_path: Path, caller: str
) -> None:
    helpers = {
        "helpers.py": "from contextlib import contextmanager\n"
        "from tokentrail import tracking_context\n"
        "@contextmanager\ndef signed_in():\n"
        "    with tracking_context(user_id='u'):\n        yield\n"
    }

    assert _tt004(tmp_path, caller, helpers) == []


@pytest.mark.parametrize(
    ("caller", "line"),
    [
        (
            "import functools\nfrom tokentrail import setup_tracking_context\n"
            "@functools.cache\ndef get():\n"
            "    return setup_tracking_context(Writer(), user_id='u')\n",
            6,
        ),
        ("SHARED = Writer()\nSHARED.set_tracking_context(None, 'u', 'o')\n", 2),
        (
            "SHARED = Writer()\ndef handle():\n    SHARED.set_tracking_context(None, 'u', 'o')\n",
            2,
        ),
        (
            "import functools\nfrom tokentrail import setup_tracking_context\n"
            "@functools.cache\ndef get():\n    return Writer()\n"
            "def handle():\n    writer = get()\n    setup_tracking_context(writer, user_id='u')\n",
            8,
        ),
        (
            "import functools\nfrom tokentrail import setup_tracking_context\n"
            "@functools.cache\ndef get():\n    return Writer()\n"
            "def handle():\n    setup_tracking_context(get(), user_id='u')\n",
            8,
        ),
    ],
)
def test_context_set_on_a_shared_instance_is_reported(
    tmp_path: Path, caller: str, line: int
) -> None:
    [finding] = _tt004(tmp_path, caller)

    assert finding.startswith(f"{line}: ")
    assert "shared between users" in finding


def test_a_projects_own_setup_function_counts_as_setup(tmp_path: Path) -> None:
    path = _project(
        tmp_path,
        "from tracking import attach\ndef handle():\n    writer = Writer()\n    attach(writer)\n",
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tokentrail]\nsetup-import = "tracking:attach"\n'
    )
    project = analyze([path], use_cache=False)

    findings = check_files(project.files, tmp_path, RuleSettings.from_selection(None))

    assert [finding.code for finding in findings] == []


def _facts(tmp_path: Path, caller: str) -> tuple[list[str], list[str]]:
    path = _project(tmp_path, caller)
    [file] = analyze([path], root=tmp_path, config=Config(), use_cache=False).files
    assert file.callers is not None
    creations = [
        f"{site.span.line} {site.kind.value} owner={site.owner} ambient={site.ambient}"
        for site in file.callers.creations
    ]
    uses = [
        f"{use.span.line} {use.getter} shared={use.shared} ambient={use.ambient}"
        for use in file.callers.uses
    ]
    return creations, uses


def test_getters_reached_through_depends_and_module_aliases(tmp_path: Path) -> None:
    caller = (
        "import functools\n"  # 2
        "import service as services\n"
        "from tokentrail import tracking_job\n"
        "@functools.cache\n"
        "def shared() -> Writer:\n"
        "    return services.Writer()\n"  # 7
        "def route(writer: Writer = Depends(shared)) -> str:\n"  # 8
        "    return writer.write('x')\n"
        "@tracking_job()\n"
        "def job() -> str:\n"
        "    return shared().write('x')\n"  # 12
        "class Helper(Writer):\n"
        "    def __init__(self) -> None:\n"
        "        self.inner = Writer()\n"  # 15
        "    def child(self) -> Writer:\n"
        "        return Writer()\n"  # 17
        "    @staticmethod\n"
        "    def made() -> Writer:\n"
        "        return Writer()\n"  # 20
    )

    creations, uses = _facts(tmp_path, caller)

    assert creations == [
        "7 cached-getter owner=None ambient=False",
        "15 other owner=caller.Helper ambient=False",
        "17 getter owner=caller.Helper ambient=False",
        "20 getter owner=None ambient=False",
    ]
    assert uses == [
        "8 caller.shared shared=True ambient=False",
        "12 caller.shared shared=True ambient=True",
    ]
