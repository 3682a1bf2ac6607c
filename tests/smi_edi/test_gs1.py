"""SSCC-18: the GS1 mod-10 check digit (weights 3, 1, 3, ... from the right of the 17-digit
body), building an SSCC from extension + company prefix + serial, and checking one.

The known answers are worked by hand; e.g. GS1's example body 1 0614141 123456789:
from the right 9*3 + 8 + 7*3 + 6 + 5*3 + 4 + 3*3 + 2 + 1*3 + 1 + 4*3 + 1 + 4*3 + 1 + 6*3
+ 0 + 1*3 = 143, and 10 - 143 mod 10 = 7.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smi_edi.gs1 import sscc_check_digit, sscc_make, sscc_valid


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("10614141123456789", 7),  # sum 143, worked out above
        ("00614141000000001", 2),  # 1*3 + 1 + 4*3 + 1 + 4*3 + 1 + 6*3 = 48
        ("12345678901234567", 5),  # sum 155
        ("00000000000000055", 0),  # 5*3 + 5 = 20: a multiple of 10 gives 0, not 10
        ("00000000000000010", 9),  # the 1 is in a weight-1 place: 1
        ("00000000000000000", 0),
    ],
    ids=["gs1-example", "prefix-0614141-serial-1", "123-sequence", "sum-20", "sum-1", "zeros"],
)
def test_check_digit_known_answers(body, check):
    assert sscc_check_digit(body) == check


@pytest.mark.parametrize(
    "body", ["1234567890123456", "123456789012345678", "1234567890123456X", ""]
)
def test_check_digit_wants_exactly_17_digits(body):
    with pytest.raises(ValueError, match="17 digits"):
        sscc_check_digit(body)


def test_make_pads_the_serial_between_prefix_and_check_digit():
    assert sscc_make(extension=1, company_prefix="0614141", serial=123456789) == (
        "106141411234567897"
    )
    assert sscc_make(extension=0, company_prefix="0614141", serial=1) == "006141410000000012"


def test_make_uses_every_digit_the_prefix_leaves():
    # A 12-digit prefix leaves 4 serial digits (body sum 173, check 7); a 6-digit one leaves
    # 10 (body sum 252, check 8).
    assert sscc_make(extension=3, company_prefix="123456789012", serial=9999) == (
        "312345678901299997"
    )
    assert sscc_make(extension=9, company_prefix="123456", serial=9_999_999_999) == (
        "912345699999999998"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"extension": 0, "company_prefix": "12345", "serial": 1}, "6 to 12 digits"),
        ({"extension": 0, "company_prefix": "1234567890123", "serial": 1}, "6 to 12 digits"),
        ({"extension": 0, "company_prefix": "12345A7", "serial": 1}, "6 to 12 digits"),
        ({"extension": 0, "company_prefix": "123456789012", "serial": 10_000}, "4 digits"),
        ({"extension": 0, "company_prefix": "123456", "serial": 10**10}, "10 digits"),
        ({"extension": 0, "company_prefix": "0614141", "serial": -1}, "does not fit"),
        ({"extension": 10, "company_prefix": "0614141", "serial": 1}, "extension"),
    ],
    ids=[
        "prefix-short",
        "prefix-long",
        "prefix-letter",
        "serial-4",
        "serial-10",
        "negative",
        "ext",
    ],
)
def test_make_refuses_what_does_not_fit(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sscc_make(**kwargs)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("106141411234567897", True),
        ("106141411234567890", False),  # wrong check digit
        ("006141410000000012", True),
        ("016141410000000012", False),  # one body digit changed
        ("10614141123456789", False),  # 17 digits
        ("1061414112345678970", False),  # 19 digits
        ("10614141123456789X", False),
        ("", False),
    ],
)
def test_valid(value, valid):
    assert sscc_valid(value) is valid


@given(
    extension=st.integers(0, 9),
    prefix=st.text("0123456789", min_size=6, max_size=12),
    data=st.data(),
)
def test_every_made_sscc_is_valid_and_one_wrong_digit_is_caught(extension, prefix, data):
    serial = data.draw(st.integers(0, 10 ** (16 - len(prefix)) - 1))
    sscc = sscc_make(extension=extension, company_prefix=prefix, serial=serial)
    assert len(sscc) == 18 and sscc.isdigit()
    assert sscc[0] == str(extension) and sscc[1 : 1 + len(prefix)] == prefix
    assert int(sscc[1 + len(prefix) : 17]) == serial
    assert sscc_valid(sscc)
    position = data.draw(st.integers(0, 17))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != sscc[position]]))
    assert not sscc_valid(sscc[:position] + other + sscc[position + 1 :])
