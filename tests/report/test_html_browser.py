"""The HTML report in a real headless Chromium: it renders, the charts are drawn, the figures match.

The page itself carries no script. To measure what the browser laid out, the test serves a copy
of the page with one measuring script appended (allowed through the page's own
Content-Security-Policy by a nonce), and reads the script's findings back from `--dump-dom`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tests.report.known_rows import KNOWN_ROWS

from tokentrail import UsageRecord
from tokentrail.report._money import format_usd
from tokentrail.report.cli import main
from tokentrail.stores.sqlite import SQLiteStore

pytestmark = pytest.mark.browser

_NONCE = "tokentrail-test"

_MEASURE = """
<script nonce="%s">
(() => {
  const box = (element) => {
    const rect = element.getBoundingClientRect();
    return {width: rect.width, height: rect.height, left: rect.left, top: rect.top};
  };
  const findings = {
    scripts: document.scripts.length,
    title: document.title,
    font: getComputedStyle(document.body).fontFamily,
    mainWidth: box(document.querySelector("main")).width,
    charts: [...document.querySelectorAll("svg.chart")].map((svg) => ({id: svg.id, ...box(svg)})),
    dayBars: [...document.querySelectorAll("rect.day")].map((bar) => ({
      day: bar.dataset.day, cost: bar.dataset.cost, height: box(bar).height,
    })),
    ranked: [...document.querySelectorAll("g.ranked")].map((group) => ({
      chart: group.closest("svg").id, label: group.dataset.label, cost: group.dataset.cost,
      shown: group.querySelector("text.value").textContent,
      barWidth: box(group.querySelector("rect")).width,
      labelLeft: box(group.querySelector("text.label")).left,
    })),
    cards: Object.fromEntries([...document.querySelectorAll(".card")].map(
      (card) => [card.id, card.querySelector(".card-value").textContent])),
    keys: [...document.querySelectorAll("#summary td.key")].map((cell) => cell.textContent),
    noData: document.getElementById("no-data") !== null,
  };
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(findings);
  document.body.appendChild(out);
})();
</script>
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's `chromium`; in CI (`TOKENTRAIL_REQUIRE_BROWSER=1`) a missing one is a failure."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        reason = "headless Chromium is not installed (apt-get install chromium)"
        if os.environ.get("TOKENTRAIL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; TOKENTRAIL_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    return found


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "chromium-profile"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _chromium_command(chromium: str, profile: Path, *extra: str) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1200,1600",
        *extra,
    ]


class _Measured(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside = tag == "pre" and ("id", "measured") in attrs

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text += data


def render(chromium: str, profile: Path, page: Path) -> dict[str, Any]:
    """Load `page` with the measuring script in Chromium and return what the script found."""
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html, "the page itself must carry no script"
    measured = page.with_name("measured.html")
    with_nonce = html.replace(
        "default-src 'none';", f"default-src 'none'; script-src 'nonce-{_NONCE}';"
    )
    measured.write_text(with_nonce.replace("</body>", _MEASURE % _NONCE + "</body>"))
    completed = subprocess.run(
        _chromium_command(chromium, profile, "--dump-dom", measured.as_uri()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    parser = _Measured()
    parser.feed(completed.stdout)
    assert parser.text, f"the measuring script did not run:\n{completed.stdout[:2000]}"
    findings: dict[str, Any] = json.loads(parser.text)
    return findings


def write_page(store_url: str, page: Path, *arguments: str) -> None:
    assert main(["--store", store_url, *arguments, "--html", str(page)]) == 0


def test_the_page_renders_its_charts_with_the_stores_figures(
    chromium: str, profile: Path, store_url: str, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    write_page(store_url, page)
    found = render(chromium, profile, page)

    assert found["scripts"] == 1  # the measuring script only
    assert found["title"] == "tokentrail usage report"
    assert "system-ui" in found["font"]
    assert found["mainWidth"] == 1040
    assert [chart["id"] for chart in found["charts"]] == [
        "chart-days",
        "chart-operations",
        "chart-models",
    ]
    assert all(chart["width"] > 900 and chart["height"] > 60 for chart in found["charts"])

    # Spend per day, summed here from the known rows in UTC days.
    per_day: dict[str, Decimal] = defaultdict(Decimal)
    for record in KNOWN_ROWS:
        per_day[record.created_at.astimezone(UTC).date().isoformat()] += record.cost_usd or 0
    bars = {bar["day"]: bar for bar in found["dayBars"]}
    assert {day: Decimal(bar["cost"]) for day, bar in bars.items()} == per_day
    heights = {day: bar["height"] for day, bar in bars.items()}
    # Drawn to scale: 1 December (0.0185) is the tallest column, 3 December the shortest.
    assert heights["2026-12-01"] > heights["2026-12-02"] > heights["2026-12-03"] > 0
    assert heights["2026-12-01"] / heights["2026-12-02"] == pytest.approx(0.0185 / 0.008, rel=0.02)

    models: dict[str, Decimal] = defaultdict(Decimal)
    for record in KNOWN_ROWS:
        models[f"{record.model} ({record.provider})"] += record.cost_usd or 0
    shown_models = [bar for bar in found["ranked"] if bar["chart"] == "chart-models"]
    assert {bar["label"]: Decimal(bar["cost"]) for bar in shown_models} == models
    for bar in shown_models:
        assert bar["shown"] == format_usd(models[bar["label"]])
        assert bar["labelLeft"] >= 0
    assert shown_models[0]["label"] == "claude-sonnet-4-5 (anthropic)"

    total = sum((record.cost_usd or Decimal(0) for record in KNOWN_ROWS), Decimal(0))
    assert found["cards"] == {
        "total-cost": format_usd(total),
        "total-runs": "6",
        "total-input": f"{sum(record.input_tokens for record in KNOWN_ROWS):,}",
        "total-output": f"{sum(record.output_tokens for record in KNOWN_ROWS):,}",
    }
    assert found["keys"] == ["org-acme", "org-northwind", "(none)"]


def test_hostile_names_render_as_text(chromium: str, profile: Path, tmp_path: Path) -> None:
    hostile = '<script>document.title="owned"</script><img src=x onerror="document.title=1">'
    store = SQLiteStore(tmp_path / "usage.db")
    store.append(
        [
            UsageRecord(
                created_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                organization_id=hostile,
                tool_name="</svg><b>",
                operation=hostile,
                model="]]><!--",
                cost_usd=Decimal("2.5"),
            )
        ]
    )
    store.close()
    page = tmp_path / "report.html"
    write_page(f"sqlite:///{tmp_path / 'usage.db'}", page)
    found = render(chromium, profile, page)

    assert found["scripts"] == 1
    assert found["title"] == "tokentrail usage report"
    assert found["keys"] == [hostile]
    assert [bar["label"] for bar in found["ranked"]] == [
        f"</svg><b> · {hostile}",
        "]]><!-- (unknown)",
    ]
    assert len(found["charts"]) == 3
    assert found["cards"]["total-cost"] == "$2.50"


def test_an_empty_store_renders_a_notice(chromium: str, profile: Path, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "usage.db")
    store.append([])
    store.close()
    page = tmp_path / "report.html"
    write_page(f"sqlite:///{tmp_path / 'usage.db'}", page)
    found = render(chromium, profile, page)
    assert found["noData"]
    assert found["charts"] == []


def test_a_screenshot_is_drawn(
    chromium: str, profile: Path, store_url: str, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    write_page(store_url, page, "--by", "organization,user")
    screenshot = tmp_path / "report.png"
    completed = subprocess.run(
        _chromium_command(chromium, profile, f"--screenshot={screenshot}", page.as_uri()),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1200, 1600)
