"""Unit counts are stated as people write them: 540 units, not 5.4E+2."""

from decimal import Decimal

import pytest

from reporting_assistant.query.compute import plain


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("540.0000"), "540"),
        (Decimal("12611.0000"), "12611"),
        (Decimal("100"), "100"),
        (Decimal("0.0000"), "0"),
        (Decimal("12.5000"), "12.5"),
    ],
)
def test_a_unit_count_is_never_in_exponent_form(value, text):
    # before: str(Decimal("540.0000").normalize()) was "5.4E+2" in the facts and the API
    assert str(plain(value)) == text
