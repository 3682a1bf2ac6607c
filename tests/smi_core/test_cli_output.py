"""The command line's human tables: read as a person reads them in a terminal or a log."""

from __future__ import annotations

import io

from rich.console import Console

from smi_core.cli_output import human_table_print


def _table(headings: list[tuple[str, bool]], rows: list[list[str]]) -> dict:
    return {
        "headings": [{"key": t, "text": t, "numeric": numeric} for t, numeric in headings],
        "rows": [[{"text": cell, "title": cell} for cell in row] for row in rows],
        "rates": [],
    }


def _printed(table: dict, width: int = 120) -> list[str]:
    out = io.StringIO()
    human_table_print(Console(file=out, width=width, highlight=False), table)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_one_row_of_many_measures_prints_one_line_per_measure():
    headings = [(f"Measure number {n}", True) for n in range(9)] + [("Note", False)]
    row = [f"{n},000.00" for n in range(9)] + ["DIO cannot be computed for a period without sales"]
    lines = _printed(_table(headings, [row]))

    for n in range(9):
        assert any(
            line.strip().startswith(f"Measure number {n}") and line.endswith(f"{n},000.00")
            for line in lines
        ), lines
    assert any(line.endswith("DIO cannot be computed for a period without sales") for line in lines)


def test_a_date_column_is_never_folded_in_a_crowded_table():
    """Working capital's shape, two rows in a 200-column log: the dates once folded into
    '2026-09-0' / '1' while the numbers kept their width."""
    headings = [("Baseline from", False), ("Baseline to", False)]
    headings += [("Current from", False), ("Current to", False)]
    headings += [
        ("DIO, baseline (days)", True),
        ("DIO, current (days)", True),
        ("Working capital released (USD)", True),
        ("Carrying cost saved a year (USD)", True),
        ("Carrying rate a year", True),
        ("Note", False),
    ]
    row = ["2026-06-02", "2026-08-31", "2026-09-01", "2026-11-30"]
    row += ["— not computed", "70.3 days", "— not computed", "— not computed", "20.0 %"]
    row += ["DIO cannot be computed for a period without sales"]
    lines = _printed(_table(headings, [row, row]), width=200)

    body = [line for line in lines if "2026-06-02" in line]
    assert len(body) == 2, lines
    assert all(
        all(day in line for day in ("2026-08-31", "2026-09-01", "2026-11-30")) for line in body
    ), lines
