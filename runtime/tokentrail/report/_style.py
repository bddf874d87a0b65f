"""The HTML report's stylesheet, inlined into the page.

System fonts only (no web font can load offline), tabular figures so columns of numbers line up,
and a print layout without shadows, so the page prints as cleanly as it reads on screen.
"""

from __future__ import annotations

from typing import Final

PAGE_STYLE: Final = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --paper: #ffffff; --ground: #f5f7fa;
  --accent: #2f6fdb; --accent-soft: #dce8fb; --warn: #8a5a00; --warn-soft: #fff4d6;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--ground); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans",
    "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1040px; margin: 0 auto; padding: 32px 24px 48px; }
header { margin-bottom: 24px; }
.eyebrow {
  margin: 0; color: var(--accent); font-weight: 600; letter-spacing: .08em;
  text-transform: uppercase; font-size: 12px;
}
h1 { margin: 4px 0 16px; font-size: 28px; font-weight: 650; }
h2 { margin: 0 0 16px; font-size: 17px; font-weight: 600; }
.facts { display: flex; flex-wrap: wrap; gap: 8px 32px; margin: 0; }
.facts dt {
  color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
}
.facts dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 16px; }
.card, .panel {
  background: var(--paper); border: 1px solid var(--line); border-radius: 10px;
  box-shadow: 0 1px 2px rgba(31, 41, 51, .06);
}
.card { padding: 16px 20px; }
.card-label { margin: 0; color: var(--muted); font-size: 13px; }
.card-value {
  margin: 4px 0 0; font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums;
}
.note {
  margin: 16px 0 0; padding: 10px 14px; border-radius: 8px;
  background: var(--warn-soft); color: var(--warn);
}
.panel { margin-top: 24px; padding: 20px 24px; }
.more { margin: 8px 0 0; color: var(--muted); font-size: 13px; }
.empty p { margin: 0; color: var(--muted); }
svg.chart { display: block; width: 100%; height: auto; }
svg .bar { fill: var(--accent); }
svg .bar:hover { fill: #1d4fa3; }
svg .grid { stroke: var(--line); }
svg .axis { stroke: #9aa5b1; }
svg text { fill: var(--ink); font-size: 12px; font-variant-numeric: tabular-nums; }
svg .tick { fill: var(--muted); }
svg .axis-title { fill: var(--muted); font-size: 12px; font-weight: 600; }
svg .value { font-weight: 600; }
.table-wrap { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 8px 12px; border-bottom: 1px solid var(--line); text-align: left; }
thead th {
  color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase;
  letter-spacing: .04em; white-space: nowrap;
}
td.key { overflow-wrap: anywhere; }
td.none { color: var(--muted); font-style: italic; }
.number { text-align: right; white-space: nowrap; }
tbody tr:hover { background: var(--ground); }
tfoot td, tfoot th { font-weight: 650; border-top: 2px solid var(--ink); border-bottom: 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
footer { margin-top: 24px; color: var(--muted); font-size: 13px; }
@media print {
  body { background: #fff; }
  .card, .panel { box-shadow: none; break-inside: avoid; }
}
"""
