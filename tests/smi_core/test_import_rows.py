"""The shared import checks alone: any text in, a value or a readable problem out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smi_core.services.import_rows import (
    ImportRejected,
    RowErrors,
    csv_rows,
    decimal_value,
    gtin14,
    json_with_lines,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.floats(), st.integers(), st.decimals()))
def test_any_value_is_a_fitting_decimal_or_a_value_error(value):
    try:
        number = decimal_value(value, max_digits=18, decimal_places=4)
    except ValueError as exc:
        assert str(exc)
    else:
        assert number.is_finite() and Decimal(0) <= number < Decimal("1e14")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_csv_text_gives_rows_or_named_problems(text):
    errors = RowErrors()
    header, rows = csv_rows(text, name="f.csv", errors=errors)
    for line, row in rows:
        assert line >= 2 and set(row) <= set(header)
    assert all(problem.startswith("f.csv:") for problem in errors.lines)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_json_text_parses_or_names_its_line(text):
    try:
        json_with_lines(text, name="f.json")
    except ImportRejected as exc:
        assert exc.message.startswith("f.json:")


@pytest.mark.parametrize(
    ("upc", "expected"),
    [
        ("036000291452", "00036000291452"),
        ("4006381333931", "04006381333931"),
        ("96385074", "00000096385074"),
    ],
    ids=["upc-a", "ean-13", "ean-8"],
)
def test_gtins_with_the_right_check_digit_become_gtin14(upc, expected):
    assert gtin14(upc) == expected


def test_a_upc_with_a_wrong_check_digit_names_the_right_one():
    with pytest.raises(ValueError, match=r"has check digit 3, but the digits before it give 2"):
        gtin14("036000291453")
