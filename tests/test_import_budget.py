"""Start-up stays light: the runtime, the checker and the pytest plugin import nothing heavy.

Each case runs in a fresh interpreter and lists the heavy modules it loaded, so a stray import
anywhere on the path shows up here rather than as a slow commit hook in a user's repository.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("pydantic_ai", "genai_prices", "supabase", "psycopg", "libcst")

REPORT_HEAVY_AT_EXIT = textwrap.dedent(
    f"""
    import atexit, json, sys
    def _report():
        heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({HEAVY!r}))
        sys.__stderr__.write("HEAVY=" + json.dumps(heavy) + "\\n")
    atexit.register(_report)
    """
)


def heavy_modules_loaded(code: str, tmp_path: Path) -> list[str]:
    script = tmp_path / "probe.py"
    script.write_text(REPORT_HEAVY_AT_EXIT + textwrap.dedent(code))
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    marker = [line for line in completed.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, completed.stderr
    loaded: list[str] = json.loads(marker[-1].removeprefix("HEAVY="))
    return loaded


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import tokentrail\ntokentrail.__version__", id="import tokentrail"),
        pytest.param(
            "import sys\nfrom tokentrail._cli import main\n"
            "sys.argv = ['tokentrail', 'check', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n",
            id="tokentrail check --help",
        ),
        pytest.param(
            "import pytest\npytest.main(['--collect-only', '-q', '-p', 'tokentrail'])\n",
            id="pytest start with the plugin",
        ),
    ],
)
def test_nothing_heavy_is_imported(code: str, tmp_path: Path) -> None:
    assert heavy_modules_loaded(code, tmp_path) == []
