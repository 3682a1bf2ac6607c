"""Figures as people read them (smi_core.templatetags.smi_format): known values in, known
text out; the pages and the command line both use these."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smi_core.templatetags.smi_format import (
    cell,
    days,
    fact,
    fraction_percent,
    heading,
    human_table,
    is_number,
    missing,
    money,
    numeric_columns,
    percent,
    quantity,
    rate,
    simulation_rows,
)


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        ("41465.27", "USD", "USD 41,465.27"),
        ("1234567.005", "EUR", "EUR 1,234,567.01"),  # half up, like the ledger
        (Decimal("0"), "", "0.00"),
        ("-2889.5", "EUR", "EUR -2,889.50"),
        ("-0.001", "USD", "USD 0.00"),  # no "-0.00"
        (None, "USD", "—"),
        ("not tested (no selling price)", "USD", "— not tested (no selling price)"),
    ],
    ids=["thousands", "millions-rounded", "zero", "negative", "negative-zero", "none", "reason"],
)
def test_money(value, currency, text):
    assert money(value, currency) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [("3887.0000", "3,887"), ("12004.8", "12,004.8"), ("4.16383", "4.164"), ("0E-4", "0")],
    ids=["whole-units", "fraction", "three-decimals-at-most", "zero"],
)
def test_quantity_has_whole_units_without_trailing_zeros(value, text):
    assert quantity(value) == text


def test_percentages_days_and_rates():
    assert percent("99.5000") == "99.5 %"
    assert fraction_percent("0.2500") == "25.0 %"
    assert days("70.3318") == "70.3 days"
    assert rate("1.15140000") == "1.1514"
    assert rate("2.00000000") == "2.0"
    assert missing("no sales in the period") == "— no sales in the period"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("dio_days", "Days inventory outstanding"),
        ("value_closing", "At closing rates"),
        ("amount_EUR", "In EUR"),
        ("amount_USD_reporting", "Total (USD)"),
        ("some_new_column", "Some new column"),
    ],
)
def test_headings_are_words(key, words):
    assert heading(key) == words


def test_a_figure_table_reads_for_people_with_the_rates_as_a_footnote():
    rows = [
        {
            "supplier": "acme-supply",
            "currency": "EUR",
            "quantity": "3887.0000",
            "value": "11558.00",
            "value_closing": "13367.97",
            "rates": "EUR/USD 1.15140000 (2026-10-02); EUR/USD 1.15660000 (2026-11-20)",
            "currency_of_value": "EUR",
            "gmroi": None,
            "gmroi_reason": "no net selling price for ACME-1001",
        }
    ]

    table = human_table(rows, reporting_currency="USD")

    assert [h["text"] for h in table["headings"]] == [
        "Supplier",
        "Currency",
        "Units",
        "Value (agreement currency)",
        "At closing rates (USD)",
        "GMROI",
    ]
    assert [c["text"] for c in table["rows"][0]] == [
        "acme-supply",
        "EUR",
        "3,887",
        "EUR 11,558.00",
        "13,367.97",
        "— no net selling price for ACME-1001",
    ]
    assert table["rates"] == ["EUR/USD 1.1514 (2026-10-02)", "EUR/USD 1.1566 (2026-11-20)"]


def test_simulation_rows_sign_the_difference_and_name_the_currency():
    result = {
        "reporting_currency": "USD",
        "current": {"fill_rate": "0.9880", "carrying_cost": "340.11", "orders": 678},
        "scenario": {"fill_rate": "0.9790", "carrying_cost": "371.42", "orders": 750},
        "difference": {"fill_rate": "-0.0090", "carrying_cost": "31.31", "orders": "72"},
    }

    rows = {r["key"]: r for r in simulation_rows(result)}

    assert (rows["fill_rate"]["current"], rows["fill_rate"]["difference"]) == ("98.8 %", "-0.9 pts")
    assert rows["carrying_cost"]["heading"] == "Carrying cost (USD)"
    assert rows["carrying_cost"]["difference"] == "+31.31"
    assert (rows["orders"]["scenario"], rows["orders"]["difference"]) == ("750", "+72")


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        pytest.param("41525.32", "USD", "USD 41,525.32", id="money"),
        pytest.param("70.3333", "days", "70.3 days", id="days"),
        pytest.param("3887", "units", "3,887 units", id="units"),
        pytest.param("n/a", "", "n/a", id="text-kept"),
        pytest.param("1234.5", "", "1,234.50", id="plain-number"),
    ],
)
def test_an_assistant_figure_reads_for_people(value, unit, text):
    assert fact(value, unit) == text


def test_a_breakdown_cell_groups_numbers_and_keeps_text():
    assert [cell(v) for v in ("13367.97", "buyer:city-mart", "12", None)] == [
        "13,367.97",
        "buyer:city-mart",
        "12",
        "\u2014",
    ]


def test_a_long_reason_is_cut_between_words_and_kept_whole_on_hover():
    reason = "no net selling price for ACME-1001, ACME-1002, ACME-1003 in the terms"
    rows = [{"supplier": "acme-supply", "gmroi": None, "gmroi_reason": reason}]

    gmroi = human_table(rows, reporting_currency="USD")["rows"][0][1]

    # 40 characters would end in "ACME-1001, AC"; the cut goes back to the last space
    assert gmroi["text"] == "\u2014 no net selling price for ACME-1001 \u2026"
    assert gmroi["title"] == f"\u2014 {reason}"
    assert gmroi["reason"] is True


def test_codes_are_marked_to_stay_whole_and_text_is_not():
    rows = [{"supplier": "acme-supply", "owner": "buyer:acme-stores-eu", "entry": "Dr COGS / Cr X"}]

    cells = human_table(rows, reporting_currency="USD")["rows"][0]

    assert [c["code"] for c in cells] == [True, True, False]


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        pytest.param("not tested (no selling price)", "\u2014", id="none-tested"),
        pytest.param("tested", "12.50", id="tested"),
        pytest.param(
            "tested for 1 of 2 positions; not tested (no selling price) for the rest",
            "12.50",
            id="partly-tested",
        ),
    ],
)
def test_a_write_down_of_stock_never_tested_is_a_dash_not_zero(status, shown):
    rows = [{"currency": "EUR", "write_down": "12.50", "nrv_status": status}]

    cells = human_table(rows, reporting_currency="USD")["rows"][0]

    assert cells[1]["text"] == shown and cells[1]["numeric"] is True


def test_a_breakdowns_number_columns_are_known_for_right_alignment():
    table = {
        "columns": ["group", "value", "note"],
        "rows": [["buyer:city-mart", "12468.00", ""], ["supplier:acme-supply", "15689.35", "x"]],
    }

    assert numeric_columns(table) == [("group", False), ("value", True), ("note", False)]
    assert [is_number(v) for v in ("12,468.00", "12468.00", "buyer:city-mart", True)] == [
        False,  # already formatted text is text
        True,
        False,
        False,
    ]
