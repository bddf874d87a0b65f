"""`tokentrail report --html`: the page's content, its escaping, and its errors.

What the page looks like in a real browser is checked in `test_html_browser.py`; here the page is
read as text and parsed with the standard library's HTML parser.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.report.known_rows import KNOWN_ROWS

from tokentrail import UsageRecord
from tokentrail.report._money import format_axis_usd, format_usd, nice_ticks
from tokentrail.report.cli import main
from tokentrail.stores.sqlite import SQLiteStore

HOSTILE_ORGANIZATION = '<script>alert("org")</script>'
HOSTILE_OPERATION = "\"><img src=x onerror=alert('op')> & </svg>"


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, **wanted: str) -> list[dict[str, str | None]]:
        found = []
        for name, attributes in self.elements:
            classes = (attributes.get("class") or "").split()
            if name == tag and all(
                value in classes if key == "class_" else attributes.get(key) == value
                for key, value in wanted.items()
            ):
                found.append(attributes)
        return found


def parsed(path: Path) -> _Elements:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def write_page(capsys: pytest.CaptureFixture[str], path: Path, *arguments: str) -> _Elements:
    assert main([*arguments, "--html", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"wrote the report to {path}" in captured.err
    return parsed(path)


def expected_costs(key: str) -> dict[str, Decimal]:
    """The known rows' costs summed in Python, the way a reader checks the page by hand."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for record in KNOWN_ROWS:
        if record.cost_usd is None:
            continue
        if key == "day":
            name = record.created_at.astimezone(UTC).date().isoformat()
        elif key == "operation":
            name = f"{record.tool_name} · {record.operation}"
        else:
            name = f"{record.model} ({record.provider})"
        sums[name] += record.cost_usd
    return dict(sums)


def test_the_charts_carry_the_stores_figures(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write_page(capsys, tmp_path / "report.html", "--store", store_url)
    text = "".join(page.text)

    days = page.having("rect", class_="day")
    assert [bar["data-day"] for bar in days] == [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
    ]
    assert {bar["data-day"]: Decimal(bar["data-cost"] or "0") for bar in days} == expected_costs(
        "day"
    )

    operations = page.having("g", class_="ranked")[:4]
    priced = {bar["data-label"]: bar["data-cost"] for bar in operations if bar["data-cost"]}
    assert {label: Decimal(cost or "") for label, cost in priced.items()} == (
        expected_costs("operation")
    )
    # Ranked by cost, the highest first.
    assert [bar["data-label"] for bar in operations] == [
        "campaign_service · plan",
        "headline_service · suggest",
        "digest · <module>",
        "seo_service · meta_description",
    ]
    # The SEO operation has no known price: listed and marked unknown, never shown as free.
    seo = page.having("g", class_="ranked", **{"data-label": "seo_service · meta_description"})
    assert [bar["data-cost"] for bar in seo] == [""]

    models = page.having("g", class_="ranked")[4:]
    assert {bar["data-label"]: Decimal(bar["data-cost"] or "0") for bar in models} == (
        expected_costs("model")
    )
    assert [len(page.having("svg", id=name)) for name in ("chart-days", "chart-operations")] == [
        1,
        1,
    ]
    assert "$0.0311" in text
    assert "1 of 7 records have no known price" in text
    assert "/usage.db" in text


def test_the_summary_table_follows_by(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write_page(capsys, tmp_path / "r.html", "--store", store_url, "--by", "user")
    cells = [attributes for tag, attributes in page.elements if tag == "td"]
    costs = [cell["data-cost"] for cell in cells if "data-cost" in cell]
    # Four users (one of them none), then the total row.
    assert costs == ["0.023", "0.008", "", "0.0001234567", "0.0311234567"]
    inputs = [cell["data-input-tokens"] for cell in cells if "data-input-tokens" in cell]
    assert inputs == ["4400", "2100", "500", "700", "7700"]
    assert "Summary by user" in "".join(page.text)


def test_filters_apply_to_every_chart(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write_page(
        capsys,
        tmp_path / "r.html",
        "--store",
        store_url,
        "--organization",
        "org-northwind",
        "--since",
        "2026-12-02",
    )
    assert [bar["data-day"] for bar in page.having("rect", class_="day")] == ["2026-12-02"]
    assert [bar["data-label"] for bar in page.having("g", class_="ranked")] == [
        "headline_service · suggest",
        "gpt-4o (openai)",
    ]
    text = "".join(page.text)
    assert "since 2026-12-02 00:00 UTC" in text
    assert "org-northwind" in text


def test_names_from_the_store_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteStore(tmp_path / "usage.db")
    store.append(
        [
            UsageRecord(
                created_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                organization_id=HOSTILE_ORGANIZATION,
                tool_name="tool & <b>bold</b>",
                operation=HOSTILE_OPERATION,
                model="<svg onload=alert(1)>",
                provider="'quote'",
                input_tokens=5,
                cost_usd=Decimal("0.5"),
            )
        ]
    )
    store.close()
    path = tmp_path / "r.html"
    page = write_page(capsys, path, "--store", f"sqlite:///{tmp_path / 'usage.db'}")

    tags = [tag for tag, _ in page.elements]
    assert "script" not in tags
    assert "img" not in tags
    assert "b" not in tags
    assert tags.count("svg") == 3
    assert HOSTILE_ORGANIZATION in page.text
    labels = [bar["data-label"] for bar in page.having("g", class_="ranked")]
    assert labels == [
        f"tool & <b>bold</b> · {HOSTILE_OPERATION}",
        "<svg onload=alert(1)> ('quote')",
    ]
    assert "onerror=alert('op')" not in path.read_text(encoding="utf-8")


def test_an_empty_store_says_there_is_no_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = SQLiteStore(tmp_path / "usage.db")
    empty.append([])
    empty.close()
    page = write_page(capsys, tmp_path / "r.html", "--store", f"sqlite:///{tmp_path / 'usage.db'}")
    assert page.having("section", id="no-data")
    assert not page.having("svg", class_="chart")
    assert "no usage records for this selection" in "".join(page.text)


def test_many_operations_show_the_top_ten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteStore(tmp_path / "usage.db")
    store.append(
        [
            UsageRecord(
                created_at=datetime(2026, 12, day, tzinfo=UTC),
                tool_name="service",
                operation=f"operation_{number:02d}",
                cost_usd=Decimal(number) / 100,
            )
            for number, day in zip(range(1, 14), (1, 5) * 7, strict=False)
        ]
    )
    store.close()
    page = write_page(capsys, tmp_path / "r.html", "--store", f"sqlite:///{tmp_path / 'usage.db'}")
    labels = [bar["data-label"] for bar in page.having("g", class_="ranked")]
    assert labels[:10] == [f"service · operation_{number:02d}" for number in range(13, 3, -1)]
    assert "and 3 more operations with a smaller cost" in "".join(page.text)
    # Days without records are drawn as empty columns, so the time axis stays even.
    days = page.having("rect", class_="day")
    assert [bar["data-day"] for bar in days] == [f"2026-12-0{day}" for day in range(1, 6)]
    assert [bar["data-cost"] for bar in days][1:4] == ["", "", ""]


def test_a_store_that_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.db"
    assert main(["--store", f"sqlite:///{missing}", "--html", str(tmp_path / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_page_that_cannot_be_written(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "no-such-folder" / "r.html"
    assert main(["--store", store_url, "--html", str(target)]) == 2
    assert f"error: --html: cannot write {target}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (None, "unknown"),
        (Decimal(0), "$0.00"),
        (Decimal("1234.567"), "$1,234.57"),
        (Decimal("0.0185"), "$0.0185"),
        (Decimal("0.00003"), "<$0.0001"),
    ],
)
def test_money(amount: Decimal | None, shown: str) -> None:
    assert format_usd(amount) == shown


def test_axis_ticks_are_round() -> None:
    assert nice_ticks(0.0185) == [0.0, 0.005, 0.01, 0.015, 0.02]
    assert nice_ticks(1.5) == [0.0, 0.5, 1.0, 1.5]
    assert nice_ticks(0) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert format_axis_usd(0.015, 0.005) == "$0.015"
    assert format_axis_usd(1500, 500) == "$1,500.00"


@pytest.mark.parametrize(
    ("flag", "value", "shown"),
    [
        ("--until", "2026-12-01", "until 2026-12-02 00:00 UTC"),
        ("--since", "2026-12-01T06:00", "since 2026-12-01 06:00 UTC"),
    ],
)
def test_an_open_period_is_named(
    store_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    value: str,
    shown: str,
) -> None:
    page = write_page(capsys, tmp_path / "r.html", "--store", store_url, flag, value)
    assert shown in page.text
