"""The 820 remittance advice: a buyer's partial payment with a deduction read as data, a
hand-written advice in another partner's style, clear refusals, and writer -> our
validator -> reader round trips (004010 and 005010, hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.ts820 import (
    Adjustment820,
    Party820,
    Remittance820,
    RemittanceItem820,
    parts_total,
    read_820,
    segments_820,
)
from tests.smi_edi.x12_sets import assert_accepted as assert_accepted_as
from tests.smi_edi.x12_sets import body_of, one_set
from tests.x12_builders import interchange

D = Decimal
VERSIONS = ["004010", "005010"]
PAYER = Party820("DEMORETAIL", "Demo Retail")
PAYEE = Party820("ACMESUPPLY", "Acme Supply")


def written(remittance: Remittance820, version: str) -> bytes:
    return one_set("820", segments_820(remittance, version=version), version)


def assert_accepted(data: bytes) -> None:
    assert_accepted_as(data, "820")


def partial_payment() -> Remittance820:
    """Invoice INV-42 of 219.43 paid 199.43: 20.00 deducted for damaged goods."""
    return Remittance820(
        amount=D("199.43"),
        method="ACH",
        payment_date=date(2026, 12, 20),
        trace_number="0012345678",
        payer=PAYER,
        payee=PAYEE,
        items=(
            RemittanceItem820(
                "INV-42",
                paid=D("199.43"),
                invoice_amount=D("219.43"),
                invoice_date=date(2026, 12, 1),
                adjustments=(Adjustment820(D("-20.00"), "20", "IV", "INV-42"),),
            ),
        ),
        currency="EUR",
        payment_format="CTX",
    )


def test_the_body_is_exactly_the_820_segments():
    assert segments_820(partial_payment()) == [
        ["BPR", "I", "199.43", "C", "ACH", "CTX", *[None] * 10, "20261220"],
        ["TRN", "1", "0012345678"],
        ["CUR", "PR", "EUR"],
        ["N1", "PR", "Demo Retail", "92", "DEMORETAIL"],
        ["N1", "PE", "Acme Supply", "92", "ACMESUPPLY"],
        ["ENT", "1"],
        ["RMR", "IV", "INV-42", None, "199.43", "219.43", None],
        ["DTM", "003", "20261201"],
        ["ADX", "-20", "20", "IV", "INV-42"],
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_partial_payment_with_a_deduction_reads_back(version):
    data = written(partial_payment(), version)

    assert_accepted(data)
    read = read_820(body_of(data))
    assert read == partial_payment()
    (item,) = read.items
    (deduction,) = item.adjustments
    assert (item.invoice_amount - item.paid, deduction.reason_text) == (D("20.00"), "Damaged")
    assert read.parts_total == read.amount == D("199.43")


def test_an_advice_in_another_partners_style_is_read():
    # two ENT loops, a deduction not tied to an invoice, no DTM, BPR with bank details,
    # an NM1 loop, a TRN with an originator, and a discount taken
    body = [
        "820",
        "BPR*C*960.5*C*ACH*CCP*01*011000015*DA*123456789*1512345678**01*999999992*DA*987654*20261221",
        "TRN*1*TRACE-9*1512345678",
        "REF*VV*4500001001",
        "DTM*097*20261219",
        "N1*PR*Demo Retail*92*DEMORETAIL",
        "N1*PE*Acme Supply*92*ACMESUPPLY",
        "ENT*1",
        "NM1*PR*2*Demo Retail",
        "ADX*-15*AX",
        "RMR*IV*INV-40**500*510*10",
        "RMR*IV*INV-41**300",
        "ENT*2",
        "RMR*IV*INV-43**175.5*180.5",
        "ADX*-5*01",
    ]
    data = interchange([body], functional_id="RA")

    assert_accepted(data)
    read = read_820(body_of(data))
    assert (read.handling, read.amount, read.method, read.payment_date, read.trace_number) == (
        "C",
        D("960.5"),
        "ACH",
        date(2026, 12, 21),
        "TRACE-9",
    )
    assert [(i.invoice_number, i.paid, i.invoice_amount, i.discount) for i in read.items] == [
        ("INV-40", D(500), D(510), D(10)),
        ("INV-41", D(300), None, None),
        ("INV-43", D("175.5"), D("180.5"), None),
    ]
    assert read.adjustments == (Adjustment820(D(-15), "AX"),)
    assert read.items[2].adjustments == (Adjustment820(D(-5), "01"),)
    assert read.currency == "USD"  # no CUR: dollars
    assert parts_total(read) == D("960.5")  # 500 + 300 + 175.5 - 15


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"handling": "D"}, "only the remittance uses I and C"),
        ({"credit_debit": "X"}, "neither C"),
        ({"method": "CHEQUE"}, "three-letter code"),
        ({"amount": D(-1)}, "non-negative"),
        ({"trace_number": ""}, "trace number"),
        ({"currency": "E"}, "ISO 4217"),
        ({"payee": Party820("A")}, "payee's id"),
        ({"items": (RemittanceItem820("", D(1)),)}, "RMR02 invoice number"),
        ({"adjustments": (Adjustment820(D(1), "ABC"),)}, "two-character reason"),
        ({"adjustments": (Adjustment820(D(1), "01", "IV"),)}, "go together"),
    ],
)
def test_what_an_820_cannot_carry_is_refused_with_a_reason(change, message):
    with pytest.raises(ValueError, match=message):
        Remittance820(**{**partial_payment().__dict__, **change})


def test_reading_needs_bpr_trn_and_both_parties():
    body = body_of(written(partial_payment(), "004010"))

    with pytest.raises(ValueError, match="no BPR"):
        read_820([s for s in body if s[0] != "BPR"])
    with pytest.raises(ValueError, match="no TRN"):
        read_820([s for s in body if s[0] != "TRN"])
    with pytest.raises(ValueError, match="no N1 loop for PE"):
        read_820([s for s in body if s[:2] != ["N1", "PE"]])
    with pytest.raises(ValueError, match="RMR04 'ten' is not a number"):
        read_820([["RMR", "IV", "1", "", "ten"]])
    with pytest.raises(ValueError, match="is not an 820"):
        read_820([["ST", "810", "0001"]])


# -- round trips ----------------------------------------------------------------------

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)
AMOUNT = st.decimals(min_value=-(10**7), max_value=10**7, places=2)
ADJUSTMENT = st.one_of(
    st.builds(Adjustment820, amount=AMOUNT, reason=st.sampled_from(["01", "04", "20", "CS"])),
    st.builds(
        Adjustment820,
        amount=AMOUNT,
        reason=st.sampled_from(["AX", "11"]),
        reference_qualifier=st.just("IV"),
        reference=TEXT,
    ),
)
DAY = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
ITEM = st.builds(
    RemittanceItem820,
    invoice_number=TEXT,
    paid=AMOUNT,
    invoice_amount=st.none() | AMOUNT,
    discount=st.none() | AMOUNT,
    invoice_date=st.none() | DAY,
    adjustments=st.lists(ADJUSTMENT, max_size=2).map(tuple),
)
PARTY = st.builds(
    Party820,
    id=TEXT.filter(lambda s: len(s) >= 2),
    name=st.just("") | TEXT,
    qualifier=st.sampled_from(["92", "UL", "1"]),
)
REMITTANCE = st.builds(
    Remittance820,
    amount=st.decimals(min_value=0, max_value=10**8, places=2),
    method=st.sampled_from(["ACH", "CHK", "FWT", "NON"]),
    payment_date=st.none() | DAY,
    trace_number=TEXT,
    payer=PARTY,
    payee=PARTY,
    items=st.lists(ITEM, max_size=4).map(tuple),
    adjustments=st.lists(ADJUSTMENT, max_size=2).map(tuple),
    currency=st.sampled_from(["USD", "EUR", "GBP"]),
    handling=st.sampled_from(["I", "C"]),
    credit_debit=st.sampled_from(["C", "D"]),
    payment_format=st.sampled_from(["", "CCP", "CTX"]),
)


@pytest.mark.parametrize("version", VERSIONS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(remittance=REMITTANCE)
def test_written_820s_pass_our_validator_and_read_back_to_the_same_advice(version, remittance):
    data = written(remittance, version)

    assert_accepted(data)
    assert read_820(body_of(data)) == remittance


def test_the_sample_820_is_valid_and_adds_up():
    sample = Path(__file__).resolve().parents[2] / "samples" / "820" / "demo-retail-20261220.edi"
    data = sample.read_bytes()

    assert_accepted(data)
    advice = read_820(body_of(data))
    assert (advice.amount, advice.parts_total, len(advice.items)) == (D("1180.35"), D("1180.35"), 2)
    assert advice.items[0].adjustments == (Adjustment820(D(-20), "20", "IV", "INV-2026-0042"),)
