"""The outbound 810 invoice and its credit/debit memos: the exact body segments, the total
in cents, clear refusals, and writer -> our validator -> reader round trips (004010 and
005010, hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.ts810 import (
    AllowanceCharge810,
    Invoice810,
    InvoiceLine810,
    Party810,
    cents,
    number,
    read_810,
    segments_810,
)
from tests.smi_edi.x12_sets import assert_accepted as assert_accepted_as
from tests.smi_edi.x12_sets import body_of, one_set

D = Decimal
VERSIONS = ["004010", "005010"]
SELLER = Party810("ACMESUPPLY", "Acme Supply")
BUYER = Party810("DEMORETAIL", "Demo Retail")


def written(invoice: Invoice810, version: str) -> bytes:
    return one_set(
        "810",
        segments_810(invoice, version=version),
        version,
        sender="ACMESUPPLY",
        receiver="DEMORETAIL",
    )


def assert_accepted(data: bytes) -> None:
    assert_accepted_as(data, "810")


def november() -> Invoice810:
    """A month of consignment consumption: 37 x 2.40 + 5 cases x 28.125 (140.63 rounded)."""
    return Invoice810(
        invoice_number="INV-2026-0042",
        invoice_date=date(2026, 12, 1),
        seller=SELLER,
        buyer=BUYER,
        lines=(
            InvoiceLine810(
                "1",
                D("37"),
                "EA",
                D("2.40"),
                (("UP", "614140010012"), ("VN", "ACME-1001")),
                "Widget, blue",
            ),
            InvoiceLine810("2", D("5"), "CA", D("28.125"), (("VN", "ACME-1002"),)),
        ),
        currency="EUR",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        terms_net_days=30,
        allowances_charges=(AllowanceCharge810("A", "C310", D("10.00"), "Volume discount"),),
    )


def test_the_body_is_exactly_the_810_segments():
    assert segments_810(november()) == [
        ["BIG", "20261201", "INV-2026-0042", None, None, None, None, None],
        ["CUR", "SE", "EUR"],
        ["N1", "SE", "Acme Supply", "92", "ACMESUPPLY"],
        ["N1", "BY", "Demo Retail", "92", "DEMORETAIL"],
        ["ITD", "01", "3", None, None, None, None, "30"],
        ["DTM", "186", "20261101"],
        ["DTM", "187", "20261130"],
        ["IT1", "1", "37", "EA", "2.4", None, "UP", "614140010012", "VN", "ACME-1001"],
        ["PID", "F", None, None, None, "Widget, blue"],
        ["IT1", "2", "5", "CA", "28.125", None, "VN", "ACME-1002"],
        ["TDS", "21943"],  # 88.80 + 140.63 - 10.00 = 219.43
        ["SAC", "A", "C310", None, None, "1000", *[None] * 9, "Volume discount"],
        ["CTT", "2", "42"],
    ]


def test_the_total_is_the_rounded_lines_less_allowances_plus_charges():
    invoice = november()

    assert [line.amount for line in invoice.lines] == [D("88.80"), D("140.63")]
    assert invoice.total == D("219.43")
    assert cents(D("0.005")) == "1" and cents(D("1234.5")) == "123450"
    # a unit price of -0.00 passes the check (not below zero) and is written 0, not -0
    assert number(D("-0.00")) == "0" and number(D("1E+3")) == "1000"
    stated = Invoice810(**{**november().__dict__, "total": D("200.00")})
    assert stated.total == D("200.00")  # a total given is the one written


def test_a_credit_memo_names_its_type_and_the_invoice_it_corrects():
    memo = Invoice810(
        invoice_number="CM-0042-1",
        invoice_date=date(2026, 12, 5),
        seller=SELLER,
        buyer=BUYER,
        lines=(InvoiceLine810("1", D("2"), "EA", D("2.40"), (("VN", "ACME-1001"),)),),
        transaction_type="CR",
        original_invoice="INV-2026-0042",
    )
    body = segments_810(memo)

    assert body[0] == ["BIG", "20261205", "CM-0042-1", None, None, None, None, "CR"]
    assert ["REF", "OI", "INV-2026-0042"] in body
    assert ["TDS", "480"] in body  # a memo's amount is positive; BIG07 says it is a credit
    for version in VERSIONS:
        data = written(memo, version)
        assert_accepted(data)
        read = read_810(body_of(data))
        assert read == memo and read.is_memo


def test_a_long_description_goes_in_several_pids_and_reads_back_whole():
    text = " ".join(["consignment"] * 20)  # 239 characters
    invoice = Invoice810(
        **{
            **november().__dict__,
            "lines": (InvoiceLine810("1", D(1), "EA", D(1), (("VN", "A"),), text),),
            "total": None,
            "allowances_charges": (),
        }
    )

    pids = [s for s in segments_810(invoice) if s[0] == "PID"]

    assert len(pids) == 4 and all(len(p[5]) <= 80 for p in pids)  # six words to a PID
    assert read_810(body_of(written(invoice, "004010"))).lines[0].description == text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"invoice_number": "X" * 23}, "must be 1 to 22 characters"),
        ({"transaction_type": "CI"}, "transaction type 'CI'"),
        ({"currency": "EURO"}, "not an ISO 4217 code"),
        ({"lines": ()}, "has no lines"),
        ({"buyer": Party810("")}, "buyer's id"),
        (
            {"lines": (InvoiceLine810("1", D(0), "EA", D(1), (("VN", "A"),)),)},
            "quantity 0 must be above zero",
        ),
        (
            {"lines": (InvoiceLine810("1", D(1), "EA", D(-1), (("VN", "A"),)),)},
            "must not be negative",
        ),
        ({"lines": (InvoiceLine810("1", D(1), "EA", D(1), ()),)}, "at least one product id"),
        ({"allowances_charges": (AllowanceCharge810("X", "C310", D(1)),)}, "A or C"),
        ({"terms_net_days": 1000}, "0 to 999"),
        ({"terms_discount_percent": D(2)}, "discount percent and its discount days"),
    ],
)
def test_what_an_810_cannot_carry_is_refused_with_a_reason(change, message):
    with pytest.raises(ValueError, match=message):
        Invoice810(**{**november().__dict__, "total": None, **change})


def test_reading_needs_big_tds_and_both_parties():
    body = body_of(written(november(), "004010"))

    with pytest.raises(ValueError, match="no BIG"):
        read_810([s for s in body if s[0] != "BIG"])
    with pytest.raises(ValueError, match="no TDS"):
        read_810([s for s in body if s[0] != "TDS"])
    with pytest.raises(ValueError, match="no N1 loop for BY"):
        read_810([s for s in body if s[:2] != ["N1", "BY"]])
    with pytest.raises(ValueError, match="IT102 'x' is not a number"):
        read_810([["IT1", "1", "x", "EA", "1"]])


# -- round trips ----------------------------------------------------------------------

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789,.", min_size=1, max_size=30),
    max_size=12,
).map(" ".join)
LINE = st.builds(
    InvoiceLine810,
    line_number=st.integers(1, 999999).map(str),
    quantity=st.decimals(min_value=D("0.001"), max_value=10**6, places=3),
    unit=st.sampled_from(["EA", "CA", "PK", "KG"]),
    unit_price=st.decimals(min_value=0, max_value=10**5, places=4),
    product_ids=st.dictionaries(
        st.sampled_from(["UP", "VN", "IN", "EN"]), TEXT, min_size=1, max_size=3
    ).map(lambda d: tuple(d.items())),
    description=WORDS,
)
CHARGE = st.builds(
    AllowanceCharge810,
    indicator=st.sampled_from(["A", "C"]),
    code=st.sampled_from(["C310", "D240", "F050", "H850"]),
    amount=st.decimals(min_value=0, max_value=10**5, places=2),
    description=st.just("") | TEXT,
)
PARTY = st.builds(
    Party810,
    id=TEXT.filter(lambda s: len(s) >= 2),
    name=st.just("") | TEXT,
    qualifier=st.sampled_from(["92", "UL", "1", "9"]),
)
DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
INVOICE = st.builds(
    Invoice810,
    invoice_number=TEXT,
    invoice_date=DAY,
    seller=PARTY,
    buyer=PARTY,
    lines=st.lists(LINE, min_size=1, max_size=5).map(tuple),
    po_number=st.just("") | TEXT,
    po_date=st.none() | DAY,
    currency=st.sampled_from(["USD", "EUR", "GBP", "CAD"]),
    transaction_type=st.sampled_from(["", "CR", "DR"]),
    original_invoice=st.just("") | TEXT,
    period_start=st.none() | DAY,
    period_end=st.none() | DAY,
    terms_net_days=st.none() | st.integers(0, 999),
    allowances_charges=st.lists(CHARGE, max_size=3).map(tuple),
).flatmap(
    # a discount percent comes with its days (ITD L03040513), or neither is given
    lambda invoice: (
        st.just(invoice)
        | st.tuples(st.decimals(min_value=0, max_value=99, places=2), st.integers(0, 999)).map(
            lambda discount: Invoice810(
                **{
                    **invoice.__dict__,
                    "terms_discount_percent": discount[0],
                    "terms_discount_days": discount[1],
                }
            )
        )
    )
)


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoice=INVOICE)
def test_written_810s_pass_our_validator_and_read_back_to_the_same_invoice(version, invoice):
    # the total is whatever N2 can carry: a negative one (allowances above the lines) too
    data = written(invoice, version)

    assert_accepted(data)
    assert read_810(body_of(data)) == invoice
