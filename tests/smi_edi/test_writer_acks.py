"""The writer and the 997/999: exact bytes, round trips, property tests, x12_validate."""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12.acks import acknowledgment_for, parse_ack
from smi_edi.x12.errors import X12SyntaxError, X12WriteError
from smi_edi.x12.reader import Delimiters, X12Reader
from smi_edi.x12.results import SetStatus
from smi_edi.x12.validation import validate
from smi_edi.x12.writer import (
    CountingControlNumbers,
    GroupSpec,
    Party,
    TransactionSetSpec,
    write_interchange,
)
from tests.x12_builders import interchange, report_852

NOW = datetime(2026, 11, 25, 8, 30)
STAR = Delimiters(element="*", component=">", segment="~", repetition="^")


def write(groups, delimiters=STAR, **kw) -> bytes:
    return write_interchange(
        groups,
        sender=Party("ZZ", "ACMESUPPLY"),
        receiver=Party("ZZ", "DEMORETAIL"),
        control_numbers=CountingControlNumbers(interchange=41),
        delimiters=delimiters,
        now=NOW,
        **kw,
    )


def test_the_writer_pads_the_isa_and_counts_every_envelope():
    data = write(
        [
            GroupSpec(
                "FA",
                "ACMESUPPLY",
                "DEMORETAIL",
                "004010",
                [TransactionSetSpec("997", [["AK1", "PD", "7"], ["AK9", "A", "1", "1", "1"]])],
            )
        ]
    )

    assert data == (
        b"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*DEMORETAIL     *261125*0830*U*00401*000000042*0*P*>~"
        b"GS*FA*ACMESUPPLY*DEMORETAIL*20261125*0830*1*X*004010~ST*997*0001~AK1*PD*7~AK9*A*1*1*1~SE*4*0001~"
        b"GE*1*1~IEA*1*000000042~"
    )
    assert data.index(b"GS") == 106


def test_a_repetition_separator_is_written_from_00402_on():
    data = write(
        [
            GroupSpec(
                "FA",
                "A",
                "B",
                "005010",
                [TransactionSetSpec("997", [["AK1", "PD", "1", "005010"]])],
            )
        ]
    )

    assert data[82:83] == b"^" and data[84:89] == b"00501"


@pytest.mark.parametrize(
    ("segment", "message"),
    [
        (["N1", "ST", "Smith*Jones"], "N102 'Smith*Jones' contains the delimiter '*'"),
        (["N1", "ST", "Caf\u00e9"], "has characters X12 cannot carry"),
        (["REF", "ZZ", "a~b"], "contains the delimiter '~'"),
    ],
    ids=["element-separator", "non-ascii", "terminator"],
)
def test_values_holding_a_delimiter_are_refused_not_mangled(segment, message):
    with pytest.raises(X12WriteError, match=re.escape(message)):
        write([GroupSpec("PO", "A", "B", "004010", [TransactionSetSpec("855", [segment])])])


def test_trailing_empty_elements_and_components_are_trimmed():
    data = write(
        [
            GroupSpec(
                "PR",
                "A",
                "B",
                "004010",
                [
                    TransactionSetSpec(
                        "855",
                        [["PO1", "1", "10", "EA", "", ""], ["AK4", ["2", "1", ""], "373", "8"]],
                    )
                ],
            )
        ]
    )

    assert b"~PO1*1*10*EA~" in data and b"~AK4*2>1*373*8~" in data


SEGMENT_IDS = st.from_regex(r"\A[A-Z][A-Z0-9]{1,2}\Z", fullmatch=True).filter(
    lambda s: s not in ("ISA", "IEA", "GS", "GE", "ST", "SE")
)
SAFE_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126, blacklist_characters="*~>^|!:`"),
    max_size=12,
)
DELIMITERS = st.sampled_from(
    [
        STAR,
        Delimiters("|", ":", "!", "^"),
        Delimiters("*", ":", "\n", None),
        Delimiters("~", "`", "*", None),
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    delimiters=DELIMITERS,
    groups=st.lists(
        st.lists(
            st.lists(
                st.tuples(SEGMENT_IDS, st.lists(SAFE_TEXT, max_size=6)), min_size=1, max_size=6
            ),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_whatever_the_writer_writes_reads_back_to_the_same_segments(delimiters, groups):
    specs = [
        GroupSpec(
            "PO",
            "ACMESUPPLY",
            "DEMORETAIL",
            "004010",
            [TransactionSetSpec("855", [[sid, *values] for sid, values in body]) for body in sets],
        )
        for sets in groups
    ]

    data = write(specs, delimiters=delimiters, version="00401")
    reader = X12Reader(data)
    read = [e for e in reader.segments() if e[0] not in ("ISA", "IEA", "GS", "GE", "ST", "SE")]

    def trimmed(values):
        values = [v.strip(" ") for v in values]
        while values and values[-1] == "":
            values.pop()
        return values

    expected = [[sid, *trimmed(values)] for sets in groups for body in sets for sid, values in body]
    assert [[e[0], *trimmed(e[1:])] for e in read] == expected
    assert reader.envelope_errors == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_end_in_a_result_or_a_syntax_error(data):
    with contextlib.suppress(X12SyntaxError):
        X12Reader(data).read_all()


@settings(max_examples=200, deadline=None)
@given(prefix=st.binary(max_size=40), suffix=st.binary(max_size=120))
def test_damaged_interchanges_end_in_a_result_or_a_syntax_error(prefix, suffix):
    base = interchange([report_852(lines=[("VN*A", ["ZA*QA*1*EA"])])])
    cut = len(prefix) % len(base)
    with contextlib.suppress(X12SyntaxError):
        X12Reader(base[:cut] + suffix + base[cut:]).read_all()


def test_a_997_we_write_validates_and_reads_back_to_the_same_verdicts():
    bad = [
        "XQ*H*20261109*20261115",
        "N1*BY*Demo Retail*92*DEMORETAIL",
        "LIN**VN*A",
        "ZA*QA*NOTANUMBER*EA",
        "CTT*1",
    ]
    good = report_852(lines=[("VN*A", ["ZA*QA*5*EA"])])
    results = validate(interchange([good, bad]))

    ack = acknowledgment_for(results[0], delimiters=STAR, control_numbers=CountingControlNumbers())
    verdicts = validate(ack)
    parsed = parse_ack(ack)

    assert all(s.status is SetStatus.ACCEPTED for r in verdicts for s in r.sets)
    group = parsed[0].groups[0]
    assert (group.functional_id, group.control_number, group.status) == (
        "PD",
        "1",
        SetStatus.PARTIALLY_ACCEPTED,
    )
    assert [(s.control_number, s.status) for s in group.sets] == [
        ("0001", SetStatus.ACCEPTED),
        ("0002", SetStatus.REJECTED),
    ]
    assert any("ZA02" in e or "element 2" in e for e in group.sets[1].errors)
    assert (group.declared, group.received, group.accepted) == (2, 2, 1)
    assert group.inconsistencies == []
    assert parsed[0].sender == "ZZ:ACMESUPPLY" and parsed[0].receiver == "ZZ:DEMORETAIL"


def test_a_999_for_a_5010_partner():
    results = validate(interchange([report_852(lines=[("VN*A", ["ZA*QA*5*EA"])])]))

    ack = acknowledgment_for(
        results[0], ack_type="999", delimiters=STAR, control_numbers=CountingControlNumbers()
    )

    assert b"ST*999*0001*005010X231A1~" in ack and b"GS*FA*" in ack and b"*X*005010X231A1~" in ack
    assert b"IK5*A~" in ack
    assert parse_ack(ack)[0].ack_type == "999"


def test_partner_997s_with_inconsistent_counts_are_reported_as_given():
    ack = (
        b"ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261125*0900*U*00401*000000005*0*P*>~"
        b"GS*FA*DEMORETAIL*ACMESUPPLY*20261125*0900*5*X*004010~ST*997*0001~AK1*SH*12~AK2*856*0001~AK5*A~"
        b"AK2*856*0002~AK3*REF*3**8~AK4*1**7*BM~AK5*R*5~AK9*R*2*2*0*5~SE*10*0001~GE*1*5~IEA*1*000000005~"
    )

    group = parse_ack(ack)[0].groups[0]

    assert group.set_status("856", "1") is SetStatus.ACCEPTED
    assert group.set_status("856", "0002") is SetStatus.REJECTED
    assert "segment REF at position 3: Segment has data element errors" in group.sets[1].errors
    assert any("Invalid code value (value 'BM')" in e for e in group.sets[1].errors)
    assert group.inconsistencies == ["AK904 says 0 set(s) accepted but the AK5s accept 1"]


@pytest.mark.django_db
def test_x12_validate_exit_codes_json_and_acknowledgments(tmp_path, capsys):
    good = tmp_path / "good.edi"
    good.write_bytes(interchange([report_852(lines=[("VN*A", ["ZA*QA*5*EA"])])]))
    bad = tmp_path / "bad.edi"
    bad.write_bytes(interchange([["XQ*H*20261109*20261115", "LIN**VN*A", "ZA*QA*X*EA"]]))
    junk = tmp_path / "junk.edi"
    junk.write_text("hello")

    codes = []
    for files in ([good], [good, bad], [good, bad, junk]):
        capsys.readouterr()
        try:
            call_command(
                "x12_validate", *map(str, files), "--json", "--ack-out", str(tmp_path / "acks")
            )
            codes.append(0)
        except SystemExit as exit_:
            codes.append(exit_.code)
    report = json.loads(capsys.readouterr().out)

    assert codes == [0, 1, 2]
    assert sorted(p.name for p in (tmp_path / "acks").iterdir()) == ["bad.997.x12", "good.997.x12"]
    assert b"AK5*R" in (tmp_path / "acks" / "bad.997.x12").read_bytes()
    assert [entry["readable"] for entry in report] == [True, True, False]
    assert report[1]["interchanges"][0]["groups"][0]["sets"][0]["status"] == "rejected"
    assert "does not start with an ISA" in report[2]["error"]


@pytest.mark.django_db
@pytest.mark.parametrize("engine", ["fast", "pyx12"])
def test_x12_validate_engine_option_gives_the_same_report(tmp_path, capsys, engine):
    bad = tmp_path / "bad.edi"
    bad.write_bytes(interchange([["XQ*H*20261109*20261115", "LIN**VN*A", "ZA*QA*X*EA"]]))

    with pytest.raises(SystemExit) as exit_:
        call_command("x12_validate", str(bad), "--json", "--engine", engine)
    report = json.loads(capsys.readouterr().out)

    assert exit_.value.code == 1
    (set_result,) = report[0]["interchanges"][0]["groups"][0]["sets"]
    assert set_result["status"] == "rejected"
    (error,) = set_result["segment_errors"]
    assert (error["segment_id"], error["position"], error["code"]) == ("ZA", 4, "8")
    assert [(e["position"], e["code"], e["value"]) for e in error["elements"]] == [(2, "6", "X")]
