"""997/999: written from a validation result, byte for byte; read back from partners,
with the quirks real acknowledgments have."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from smi_edi.x12.acks import (
    acknowledgment_for,
    build_997,
    build_999,
    group_status,
    parse_ack,
)
from smi_edi.x12.errors import X12SyntaxError, X12WriteError
from smi_edi.x12.reader import Delimiters, X12Reader
from smi_edi.x12.results import (
    ElementError,
    GroupResult,
    InterchangeResult,
    SegmentError,
    SetResult,
    SetStatus,
)
from smi_edi.x12.writer import CountingControlNumbers, Party

NOW = datetime(2026, 11, 25, 9, 5)
STAR = Delimiters(element="*", component=">", segment="~", repetition=None)
A, E, P, R = (
    SetStatus.ACCEPTED,
    SetStatus.ACCEPTED_WITH_ERRORS,
    SetStatus.PARTIALLY_ACCEPTED,
    SetStatus.REJECTED,
)


def bad_quantity_set(control="0002", **kw) -> SetResult:
    """An 852 rejected for a ZA02 that is not a number (ZA at position 7, in the LIN loop)."""
    return SetResult(
        "852",
        control,
        status=R,
        set_errors=["5"],
        segment_errors=[
            SegmentError(
                "ZA",
                7,
                "8",
                "ZA segment 7 has data element errors",
                loop_id="LIN",
                elements=[
                    ElementError(
                        2, "6", "ZA02 '12X' is not a number", data_element="380", value="12X"
                    )
                ],
            )
        ],
        **kw,
    )


def inbound(*groups: GroupResult, version="00401") -> InterchangeResult:
    """The verdict on an interchange DEMORETAIL sent us (ACMESUPPLY)."""
    return InterchangeResult(
        control_number="000000031",
        sender_qualifier="ZZ",
        sender_id="DEMORETAIL",
        receiver_qualifier="ZZ",
        receiver_id="ACMESUPPLY",
        version=version,
        groups=list(groups),
    )


def pd_group(*sets: SetResult, control="31", version="004010", **kw) -> GroupResult:
    return GroupResult(
        "PD",
        control,
        version,
        sender_id="DEMORETAIL",
        receiver_id="ACMESUPPLY",
        sets=list(sets),
        **kw,
    )


def ack(result, ack_type="997", delimiters=STAR, **kw) -> bytes:
    return acknowledgment_for(
        result,
        ack_type=ack_type,
        delimiters=delimiters,
        control_numbers=kw.pop("control_numbers", CountingControlNumbers(interchange=99)),
        now=NOW,
        **kw,
    )


def segments(data: bytes) -> list[str]:
    reader = X12Reader(data)
    return ["*".join(e) for e in reader.segments()]


# -- writing ------------------------------------------------------------------------------


def test_a_4010_997_is_written_byte_for_byte():
    result = inbound(pd_group(SetResult("852", "0001"), bad_quantity_set(), declared_set_count=2))

    data = ack(result)

    assert data == (
        b"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*DEMORETAIL     *261125*0905*U*00401*000000100*0*P*>~"
        b"GS*FA*ACMESUPPLY*DEMORETAIL*20261125*0905*1*X*004010~"
        b"ST*997*0001~"
        b"AK1*PD*31~"
        b"AK2*852*0001~AK5*A~"
        b"AK2*852*0002~AK3*ZA*7*LIN*8~AK4*2*380*6*12X~AK5*R*5~"
        b"AK9*P*2*2*1~"
        b"SE*10*0001~GE*1*1~IEA*1*000000100~"
    )


def test_a_999_is_written_byte_for_byte():
    result = inbound(
        pd_group(SetResult("852", "0001"), bad_quantity_set(), version="005010"), version="00501"
    )

    data = build_999(
        result,
        delimiters=Delimiters("*", ":", "~", "^"),
        control_numbers=CountingControlNumbers(interchange=99),
        now=NOW,
    )

    assert data == (
        b"ISA*00*          *00*          *ZZ*ACMESUPPLY     *ZZ*DEMORETAIL     *261125*0905*^*00501*000000100*0*P*:~"
        b"GS*FA*ACMESUPPLY*DEMORETAIL*20261125*0905*1*X*005010X231A1~"
        b"ST*999*0001*005010X231A1~"
        b"AK1*PD*31*005010~"
        b"AK2*852*0001~IK5*A~"
        b"AK2*852*0002~IK3*ZA*7*LIN*8~IK4*2*380*6*12X~IK5*R*5~"
        b"AK9*P*2*2*1~"
        b"SE*10*0001~GE*1*1~IEA*1*000000100~"
    )


def test_a_5010_997_carries_ak103_ak203_and_the_repetition_position():
    rejected = bad_quantity_set(implementation_reference="005010X999")
    rejected.segment_errors[0].elements[0].component = 1
    rejected.segment_errors[0].elements[0].repetition = 3
    result = inbound(pd_group(rejected, version="005010"), version="00501")

    five = segments(ack(result, delimiters=Delimiters("*", ":", "~", "^")))
    four = segments(ack(inbound(pd_group(rejected))))

    assert five[1].endswith("*X*005010") and five[0].split("*")[12] == "00501"
    assert "AK1*PD*31*005010" in five and "AK2*852*0002*005010X999" in five
    assert "AK4*2:1:3*380*6*12X" in five
    assert "AK1*PD*31" in four and "AK2*852*0002" in four
    assert "AK4*2>1*380*6*12X" in four  # 004010's C030 has no repetition position


def test_we_answer_as_the_receiver_in_the_partners_delimiters():
    partner = Delimiters(element="|", component="^", segment="!", repetition=None)
    result = inbound(pd_group(SetResult("852", "0001")))

    data = ack(result, delimiters=partner, usage="T")
    reader = X12Reader(data)

    assert reader.delimiters == partner
    assert (reader.isa[5], reader.isa[6], reader.isa[7], reader.isa[8]) == (
        "ZZ",
        "ACMESUPPLY",
        "ZZ",
        "DEMORETAIL",
    )
    assert reader.isa[15] == "T"
    gs = next(e for e in reader.segments() if e[0] == "GS")
    assert gs[1:4] == ["FA", "ACMESUPPLY", "DEMORETAIL"]


def test_explicit_sender_and_receiver_override_the_swap():
    result = inbound(pd_group(SetResult("852", "0001")))

    data = build_997(
        result,
        delimiters=STAR,
        control_numbers=CountingControlNumbers(),
        sender=("01", "123456789"),
        receiver=Party("14", "9876543210001"),
        now=NOW,
    )

    isa = X12Reader(data).isa
    assert isa[5:9] == ["01", "123456789", "14", "9876543210001"]


def test_one_997_set_per_group_received_sharing_an_fa_group_per_application_pair():
    result = inbound(
        pd_group(SetResult("852", "0001"), control="31"),
        pd_group(bad_quantity_set("0001"), control="32"),
        GroupResult(
            "PD",
            "33",
            "004010",
            sender_id="DEMOSTORE",
            receiver_id="ACMEWEST",
            sets=[SetResult("852", "0001")],
        ),
    )

    lines = segments(ack(result))

    assert [
        line for line in lines if line.startswith(("GS", "ST", "AK1", "AK9", "SE", "GE", "IEA"))
    ] == [
        "GS*FA*ACMESUPPLY*DEMORETAIL*20261125*0905*1*X*004010",
        "ST*997*0001",
        "AK1*PD*31",
        "AK9*A*1*1*1",
        "SE*6*0001",
        "ST*997*0002",
        "AK1*PD*32",
        "AK9*R*1*1*0",
        "SE*8*0002",
        "GE*2*1",
        "GS*FA*ACMEWEST*DEMOSTORE*20261125*0905*2*X*004010",
        "ST*997*0003",
        "AK1*PD*33",
        "AK9*A*1*1*1",
        "SE*6*0003",
        "GE*1*2",
        "IEA*2*000000100",
    ]


@pytest.mark.parametrize(
    ("group", "ak9"),
    [
        (pd_group(SetResult("852", "0001"), declared_set_count=3), "AK9*A*3*1*1"),
        (
            pd_group(SetResult("852", "0001"), group_errors=["5"], declared_set_count=3),
            "AK9*R*3*1*0*5",  # a rejected group has no accepted set: nothing of it applies
        ),
        (pd_group(SetResult("852", "0001", status=E)), "AK9*E*1*1*1"),
        (pd_group(bad_quantity_set("0001"), bad_quantity_set("0002")), "AK9*R*2*2*0"),
        (pd_group(), "AK9*A*0*0*0"),
        (
            pd_group(SetResult("852", "0001"), group_errors=["1", "2", "3", "4", "5", "6"]),
            "AK9*R*1*1*0*1*2*3*4*5",
        ),
    ],
    ids=[
        "ge01-declared",
        "group-error-rejects",
        "with-errors",
        "all-rejected",
        "empty-group",
        "five-codes-at-most",
    ],
)
def test_ak9_counts_and_codes(group, ak9):
    assert ak9 in segments(ack(inbound(group)))


def test_a_set_in_a_rejected_group_is_answered_rejected_and_our_parser_sees_no_contradiction():
    written = ack(inbound(pd_group(SetResult("852", "0001"), group_errors=["5"])))

    assert "AK5*R" in segments(written)
    assert "AK9*R*1*1*0*5" in segments(written)
    (result,) = parse_ack(written)
    assert result.problems == []
    assert result.groups[0].inconsistencies == []
    assert result.groups[0].sets[0].status is SetStatus.REJECTED


@pytest.mark.parametrize(
    ("sets", "group_errors", "expected"),
    [
        ([A, A], [], A),
        ([A, E], [], E),
        ([A, R], [], P),
        ([R, R], [], R),
        ([], [], A),
        ([A], ["5"], R),
        ([A], ["18"], E),
    ],
    ids=[
        "all-accepted",
        "some-with-errors",
        "partly",
        "all-rejected",
        "no-sets",
        "rejecting-code",
        "noted-code",
    ],
)
def test_group_status(sets, group_errors, expected):
    group = pd_group(
        *(SetResult("852", f"{n:04d}", status=s) for n, s in enumerate(sets, 1)),
        group_errors=group_errors,
    )

    assert group_status(group) is expected


def test_a_bad_value_that_would_break_the_ack_is_left_out_not_mangled():
    tilde = bad_quantity_set()
    tilde.segment_errors[0].elements[0].value = "1~2"
    long = bad_quantity_set("0003")
    long.segment_errors[0].elements[0].value = "9" * 120

    lines = segments(ack(inbound(pd_group(tilde, long))))

    assert "AK4*2*380*6" in lines
    assert "AK4*2*380*6*" + "9" * 99 in lines


def test_codes_a_997_cannot_carry_are_written_as_the_nearest_standard_code():
    result = bad_quantity_set()
    result.segment_errors[0].code = "I6"
    result.segment_errors[0].elements = []
    other = bad_quantity_set("0003")
    other.segment_errors[0].elements[0].code = "I12"
    repeats = bad_quantity_set("0004")
    repeats.segment_errors[0].elements[0].code = "12"
    group = pd_group(result, other, repeats)

    in_997 = segments(ack(inbound(group)))
    in_999 = segments(ack(inbound(group), ack_type="999"))

    assert "AK3*ZA*7*LIN*3" in in_997 and "IK3*ZA*7*LIN*I6" in in_999
    assert "AK4*2*380*6*12X" in in_997 and "IK4*2*380*I12*12X" in in_999
    assert "AK4*2*380*3*12X" in in_997  # 004010 has no code 12 (too many repetitions)


def test_a_997_keeps_an_industry_version_and_drops_another_guides_suffix():
    vics = inbound(pd_group(SetResult("852", "0001"), version="004010VICS"))
    hipaa = inbound(pd_group(SetResult("837", "0001"), version="005010X222A1"), version="00501")

    assert "*X*004010VICS" in segments(ack(vics))[1]
    lines = segments(ack(hipaa, delimiters=Delimiters("*", ":", "~", "^")))
    assert lines[1].endswith("*X*005010") and "AK1*PD*31*005010X222A1" in lines
    forced = segments(ack(hipaa, delimiters=Delimiters("*", ":", "~", "^"), version="005010X230"))
    assert forced[1].endswith("*X*005010X230") and forced[0].split("*")[12] == "00501"


@pytest.mark.parametrize(
    ("result", "kwargs", "message"),
    [
        (inbound(), {}, "answered with a TA1"),
        (inbound(pd_group()), {"ack_type": "998"}, "ack_type must be 997 or 999"),
    ],
    ids=["no-groups", "unknown-type"],
)
def test_what_cannot_be_acknowledged_is_refused(result, kwargs, message):
    with pytest.raises(X12WriteError, match=message):
        ack(result, **kwargs)


def test_the_997_we_write_reads_back_to_the_verdicts_we_wrote():
    result = inbound(
        pd_group(
            SetResult("852", "0001"),
            bad_quantity_set(),
            SetResult("852", "0003", status=E),
            declared_set_count=4,
        ),
        pd_group(bad_quantity_set("0001"), control="32", group_errors=["5"], declared_set_count=2),
    )

    data = ack(result)
    reader = X12Reader(data)
    reader.read_all()
    acks = parse_ack(data)  # one 997 set per group received
    groups = [group for parsed in acks for group in parsed.groups]

    assert reader.envelope_errors == []
    assert [(p.ack_type, p.control_number, p.sender, p.receiver) for p in acks] == [
        ("997", "0001", "ZZ:ACMESUPPLY", "ZZ:DEMORETAIL"),
        ("997", "0002", "ZZ:ACMESUPPLY", "ZZ:DEMORETAIL"),
    ]
    assert [
        (g.control_number, g.status, g.declared, g.received, g.accepted, g.group_errors)
        for g in groups
    ] == [
        ("31", P, 4, 3, 2, []),
        ("32", R, 2, 1, 0, ["5"]),
    ]
    assert [[(s.control_number, s.status) for s in g.sets] for g in groups] == [
        [("0001", A), ("0002", R), ("0003", E)],
        [("0001", R)],
    ]
    (za,) = groups[0].sets[1].segment_errors
    assert (za.segment_id, za.position, za.loop_id, za.code) == ("ZA", 7, "LIN", "8")
    assert [(e.position, e.data_element, e.code, e.value) for e in za.elements] == [
        (2, "380", "6", "12X")
    ]
    assert groups[0].sets[1].errors == [
        "segment ZA at position 7 (loop LIN): Segment has data element errors",
        "segment ZA at position 7 (loop LIN), element ZA02 (data element 380): "
        "Invalid character in data element (value '12X')",
        "One or more segments in error",
    ]
    assert [g.inconsistencies for g in groups] == [[], []]
    assert [(p.problems, p.envelope_errors) for p in acks] == [([], []), ([], [])]


# -- reading partners' acknowledgments ----------------------------------------------------

# 003040, ISA16 is the invisible 0x1F, line breaks after each '~'; AK3 names its loop.
OLD_REJECT = (
    b"ISA*00*          *00*          *01*987654321      *ZZ*ACMESUPPLY     *261126*1412*U*00304*000000311*0*T*\x1f~\n"
    b"GS*FA*987654321*ACMESUPPLY*261126*1412*311*X*003040~\n"
    b"ST*997*3110~\n"
    b"AK1*PR*88~\n"
    b"AK2*855*0007~\n"
    b"AK3*ACK*9*PO1*5~\n"
    b"AK5*R*5~\n"
    b"AK9*R*1*1*0~\n"
    b"SE*7*3110~\n"
    b"GE*1*311~\n"
    b"IEA*1*000000311~\n"
)

# 005010 on one line behind a byte order mark; ST03, AK103, an AK4 with a composite position.
PARTIAL_5010 = (
    b"\xef\xbb\xbfISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261127*0615*^*00501*000004242*0*P*:~"
    b"GS*FA*DEMORETAIL*ACMESUPPLY*20261127*0615*4242*X*005010X230~ST*997*424201*005010X230~"
    b"AK1*SH*19*005010~AK2*856*0001~AK5*A~AK2*856*0002~AK3*REF*6*HL*8~AK4*4:1*128*7*Q9~AK5*R*5~"
    b"AK9*P*2*2*1~SE*10*424201~GE*1*4242~IEA*1*000004242~"
)


def test_an_old_997_with_a_loop_id_and_a_unit_separator():
    (parsed,) = parse_ack(OLD_REJECT)

    group = parsed.groups[0]
    (acked,) = group.sets
    assert (parsed.sender, parsed.interchange_control, parsed.version) == (
        "01:987654321",
        "000000311",
        "003040",
    )
    assert (group.functional_id, group.control_number, group.version) == ("PR", "88", "")
    assert (acked.set_id, acked.control_number, acked.status, acked.set_errors) == (
        "855",
        "0007",
        R,
        ["5"],
    )
    (note,) = acked.segment_errors
    assert (note.segment_id, note.position, note.loop_id, note.code) == ("ACK", 9, "PO1", "5")
    assert acked.errors == [
        "segment ACK at position 9 (loop PO1): Segment exceeds maximum use",
        "One or more segments in error",
    ]
    assert (group.declared, group.received, group.accepted, group.inconsistencies) == (1, 1, 0, [])


def test_a_5010_997_with_a_composite_element_position():
    (parsed,) = parse_ack(PARTIAL_5010)

    group = parsed.groups[0]
    assert (group.functional_id, group.control_number, group.version, group.status) == (
        "SH",
        "19",
        "005010",
        P,
    )
    assert [(s.control_number, s.status) for s in group.sets] == [("0001", A), ("0002", R)]
    (element,) = group.sets[1].segment_errors[0].elements
    assert (
        element.position,
        element.component,
        element.data_element,
        element.code,
        element.value,
    ) == (
        4,
        1,
        "128",
        "7",
        "Q9",
    )
    assert element.message == (
        "segment REF at position 6 (loop HL), element REF04-01 (data element 128): Invalid code value (value 'Q9')"
    )
    assert parsed.verdict_for("19", "856", "2") is R
    assert parsed.verdict_for("19", "856", "0001") is A
    assert parsed.verdict_for("20", "856", "0001") is None
    assert group.inconsistencies == []


def envelope(*sets: str, version="00401", gs08="004010", control=5) -> bytes:
    """Wrap 997 sets (ST..SE text, '~' between segments) in one FA group and interchange."""
    return (
        f"ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261125*0900*U*{version}*{control:09d}*0*P*>~"
        f"GS*FA*DEMORETAIL*ACMESUPPLY*20261125*0900*{control}*X*{gs08}~"
        + "".join(sets)
        + f"GE*{len(sets)}*{control}~IEA*1*{control:09d}~"
    ).encode()


def test_ak9_counts_that_contradict_the_ak5s_are_reported_as_sent_and_flagged():
    data = envelope(
        "ST*997*0001~AK1*PO*2~AK2*850*103465910~AK5*A~AK2*850*103465911~AK5*R*4~AK9*R*2*2*0*5~SE*8*0001~",
        "ST*997*0002~AK1*PO*3~AK2*850*0001~AK5*A~AK2*850*0002~AK5*R*5~AK9*A*2*2*2~SE*8*0002~",
    )

    first, second = parse_ack(data)

    assert first.groups[0].set_status("850", "103465910") is A  # as sent
    assert first.groups[0].status is R
    assert first.groups[0].errors == [
        "Number of included transaction sets does not match actual count"
    ]
    assert first.groups[0].inconsistencies == ["AK904 says 0 set(s) accepted but the AK5s accept 1"]
    assert second.groups[0].inconsistencies == [
        "AK904 says 2 set(s) accepted but the AK5s accept 1",
        "AK901 says A (accepted) but 1 AK5 reject their set",
    ]


def test_a_group_level_only_ack_speaks_for_every_set():
    data = envelope(
        "ST*997*0001~AK1*SH*3~AK9*A*2*2*2~SE*4*0001~",
        "ST*997*0002~AK1*SH*4~AK9*P*2*2*1~SE*4*0002~",
        "ST*997*0003~AK1*SH*5~AK9*R*1*1*0*1~SE*4*0003~",
    )

    accepted, partly, rejected = (p.groups[0] for p in parse_ack(data))

    assert accepted.group_level_only and accepted.set_status("856", "0042") is A
    assert partly.set_status("856", "0042") is None  # which one was rejected is not said
    assert rejected.set_status("856", "0001") is R
    assert rejected.errors == ["Functional group not supported"]
    assert [g.inconsistencies for g in (accepted, partly, rejected)] == [[], [], []]


def test_several_interchanges_and_a_newline_terminator():
    first = (
        b"ISA*00*          *00*          *01*XXXXXX         *12*9013446133     *261003*0004*U*00400*300044350*0*P*`\n"
        b"GS*FA*XXXXXX*9013446133*20261003*0004*300044351*X*004010\nST*997*300044350\nAK1*PR*160\n"
        b"AK2*855*0160\nAK5*A\nAK9*A*1*1*1\nSE*6*300044350\nGE*1*300044351\nIEA*1*300044350\n"
    )
    second = first.replace(b"300044350", b"300044352").replace(b"AK1*PR*160", b"AK1*PR*161")

    parsed = parse_ack(first + second)

    assert [
        (p.interchange_control, p.control_number, p.groups[0].control_number) for p in parsed
    ] == [
        ("300044350", "300044350", "160"),
        ("300044352", "300044352", "161"),
    ]
    assert all(p.groups[0].set_status("855", "160") is A for p in parsed)


def test_a_999_with_context_and_implementation_codes():
    data = envelope(
        "ST*999*0001*005010X231A1~AK1*PD*101*005010~AK2*852*0001~"
        "IK3*ZA*9*LIN*I6~CTX*SITUATIONAL TRIGGER*LIN*8**3~"
        "IK3*ZA*10*LIN*8~IK4*2*380*I12*1,5~"
        "IK5*R*5~AK9*R*1*1*0~SE*9*0001~",
        version="00501",
        gs08="005010X231A1",
    )

    (parsed,) = parse_ack(data)

    acked = parsed.groups[0].sets[0]
    assert parsed.ack_type == "999" and acked.status is R
    assert [(e.segment_id, e.position, e.code) for e in acked.segment_errors] == [
        ("ZA", 9, "I6"),
        ("ZA", 10, "8"),
    ]
    assert acked.errors == [
        "segment ZA at position 9 (loop LIN): Implementation dependent segment missing",
        "context SITUATIONAL TRIGGER: segment LIN at position 8, element 3",
        "segment ZA at position 10 (loop LIN): Segment has data element errors",
        "segment ZA at position 10 (loop LIN), element ZA02 (data element 380): "
        "Implementation pattern match failure (value '1,5')",
        "One or more segments in error",
    ]
    assert acked.segment_errors[0].message.endswith(
        "[context SITUATIONAL TRIGGER: segment LIN at position 8, element 3]"
    )


def test_missing_ak5_and_ak9_and_security_rejections_are_flagged():
    data = envelope(
        "ST*997*0001~AK1*SH*7~AK2*856*0001~AK2*856*0002~AK5*M~SE*5*0001~",
    )

    (parsed,) = parse_ack(data)

    group = parsed.groups[0]
    assert [(s.status, s.status_code) for s in group.sets] == [(None, ""), (R, "M")]
    assert group.status is None
    assert group.inconsistencies == [
        "AK2 856 0001 has no AK5: its verdict is unknown",
        "AK1 SH 7 has no AK9: the group's verdict is unknown",
    ]


def test_other_sets_in_the_file_are_skipped_and_the_acks_own_envelope_is_checked():
    data = (
        b"ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261125*0900*U*00401*000000006*0*P*>~"
        b"GS*IB*DEMORETAIL*ACMESUPPLY*20261125*0900*6*X*004010~ST*846*0001~BIA*00*SI*1*20261125~SE*3*0001~GE*1*6~"
        b"GS*FA*DEMORETAIL*ACMESUPPLY*20261125*0900*7*X*004010~ST*997*0001~AK1*PR*12~AK9*A*1*1*1~SE*9*0001~GE*1*7~"
        b"IEA*2*000000006~"
    )

    (parsed,) = parse_ack(data)

    assert (parsed.group_control, parsed.groups[0].control_number) == ("7", "12")
    assert parsed.envelope_errors == [
        "SE01 says 9 segments but set 997 0001 has 4 (ST and SE included)"
    ]


def test_a_bare_997_without_an_interchange_cannot_be_read():
    with pytest.raises(X12SyntaxError, match=re.escape("does not start with an ISA")):
        parse_ack(b"ST*997*0001~AK1*PO*2~AK9*A*1*1*1~SE*4*0001~")
