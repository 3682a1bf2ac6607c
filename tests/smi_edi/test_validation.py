"""Map validation through pyx12 with the project's map directory: valid 852/855/856/997/999
in 004010 and 005010 are accepted; each kind of defect gives the AK3/AK4 codes a 997 must
carry; formatting that real partners use is not a validation failure; nothing crashes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smi_edi.x12 import validation
from smi_edi.x12.errors import X12SyntaxError
from smi_edi.x12.results import SetStatus
from smi_edi.x12.validation import validate

BOM = b"\xef\xbb\xbf"


def interchange(
    sets: list[tuple[str, list[str]]],
    *,
    isa12: str = "00401",
    gs01: str = "PD",
    gs08: str = "004010",
    control: int = 7,
    st03: str | None = None,
) -> bytes:
    """One interchange, one group; each set is (ST01, body segments without ST/SE)."""
    repetition = "^" if isa12 >= "00402" else "U"
    out = [
        "ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261116*0600*"
        f"{repetition}*{isa12}*{control:09d}*0*P*>",
        f"GS*{gs01}*DEMORETAIL*ACMESUPPLY*20261116*0600*{control}*X*{gs08}",
    ]
    for n, (set_id, body) in enumerate(sets, start=1):
        st = f"ST*{set_id}*{n:04d}" + (f"*{st03}" if st03 else "")
        out += [st, *body, f"SE*{len(body) + 2}*{n:04d}"]
    out += [f"GE*{len(sets)}*{control}", f"IEA*1*{control:09d}"]
    return ("~\n".join(out) + "~\n").encode()


REPORT_852 = [
    "XQ*H*20261109*20261115",
    "N1*BY*Demo Retail*92*DEMORETAIL",
    "N1*ST*Ship to*92*DC01",
    "LIN**UP*012345678905*VN*ACME-1001",
    "ZA*QA**EA",
    "SDQ*EA*92*S1*4*S2*6",
    "ZA*QS*5*EA*002*20261115",
    "LIN**UP*012345678912",
    "ZA*QP*12*EA",
    "CTT*2",
]
ACK_855 = [
    "BAK*00*AC*PO-1001*20261116",
    "REF*VR*ACME",
    "N1*ST*Demo Retail DC*92*DC01",
    "PO1*1*120*EA*4.50**UP*012345678905*VN*ACME-1001",
    "ACK*IQ*100*EA*068*20261120",
    "DTM*068*20261120",
    "SCH*100*EA***002*20261120",
    "PO1*2*24*EA*3.10**UP*012345678912",
    "ACK*IA*24*EA",
    "N1*LW*Store 1*92*S1",
    "CTT*2",
]
SHIP_856 = [
    "BSN*00*SHIP-1001*20261118*0930*0001",
    "DTM*011*20261118",
    "HL*1**S",
    "TD1*CTN25*3****G*45*LB",
    "TD5**2*ACME*M",
    "REF*BM*BOL-1001",
    "N1*ST*Demo Retail DC*92*DC01",
    "HL*2*1*O",
    "PRF*PO-1001***20261116",
    "HL*3*2*P",
    "MAN*GM*00106141411234567897",
    "HL*4*3*I",
    "LIN**UP*012345678905",
    "SN1**100*EA",
    "CTT*4*100",
]
FA_997 = [
    "AK1*PR*42",
    "AK2*855*0001",
    "AK3*PO1*4**8",
    "AK4*2*330*5*1234567890123456",
    "AK5*R*5",
    "AK9*R*1*1*0",
]
FA_997_5010 = ["AK1*PR*42*005010", "AK2*855*0001", "AK5*A", "AK9*A*1*1*1"]
IMPL_999 = ["AK1*PR*42*005010", "AK2*855*0001", "IK5*A", "AK9*A*1*1*1"]
INVOICE_810 = [
    "BIG*20261201*INV-42*20261116*PO-1001***CR",
    "CUR*SE*EUR",
    "REF*OI*INV-41",
    "N1*SE*Acme Supply*92*ACMESUPPLY",
    "N1*BY*Demo Retail*92*DEMORETAIL",
    "ITD*01*3*2**10**30",
    "DTM*186*20261101",
    "IT1*1*37*EA*2.4**UP*012345678905*VN*ACME-1001",
    "PID*F****Widget",
    "TDS*8880",
    "SAC*C*D240***1250",
    "CTT*1*37",
]
REMITTANCE_820 = [
    "BPR*I*199.43*C*ACH*CTX***********20261220",
    "TRN*1*0012345678",
    "CUR*PR*EUR",
    "N1*PR*Demo Retail*92*DEMORETAIL",
    "N1*PE*Acme Supply*92*ACMESUPPLY",
    "ENT*1",
    "ADX*-10*AX",
    "RMR*IV*INV-42**209.43*219.43",
    "DTM*003*20261201",
    "ADX*-20*20*IV*INV-42",
]
INVENTORY_846 = [
    "BIA*00*DD*WEEK46*20261115",
    "N1*ST*Ship to*92*DC01",
    "LIN*1*UP*012345678905*VN*ACME-1001",
    "SDQ*EA*92*S001*40*S002*7",
    "QTY*17*15*EA",
    "DTM*405*20261115",
    "QTY*63*10*EA",
    "N1*RL**92*S001",
    "CTT*1",
]

VALID = {
    "852-4010": interchange([("852", REPORT_852)]),
    "852-5010": interchange([("852", REPORT_852)], isa12="00501", gs08="005010"),
    "855-4010": interchange([("855", ACK_855)], gs01="PR"),
    "855-5010": interchange([("855", ACK_855)], isa12="00501", gs01="PR", gs08="005010"),
    "856-4010": interchange([("856", SHIP_856)], gs01="SH"),
    "856-5010": interchange([("856", SHIP_856)], isa12="00501", gs01="SH", gs08="005010"),
    "997-4010": interchange([("997", FA_997)], gs01="FA"),
    "997-5010": interchange([("997", FA_997_5010)], isa12="00501", gs01="FA", gs08="005010"),
    "999-5010": interchange(
        [("999", IMPL_999)], isa12="00501", gs01="FA", gs08="005010X231A1", st03="005010X231A1"
    ),
    "810-4010": interchange([("810", INVOICE_810)], gs01="IN"),
    "810-5010": interchange([("810", INVOICE_810)], isa12="00501", gs01="IN", gs08="005010"),
    "820-4010": interchange([("820", REMITTANCE_820)], gs01="RA"),
    "820-5010": interchange([("820", REMITTANCE_820)], isa12="00501", gs01="RA", gs08="005010"),
    "846-4010": interchange([("846", INVENTORY_846)], gs01="IB"),
    "846-5010": interchange([("846", INVENTORY_846)], isa12="00501", gs01="IB", gs08="005010"),
}


@pytest.fixture(autouse=True, params=validation.ENGINES)
def engine(request, monkeypatch):
    """Every test here runs on both engines: the fast one must give pyx12's verdicts."""
    monkeypatch.setattr(validation, "DEFAULT_ENGINE", request.param)
    return request.param


def only_set(data: bytes):
    (result,) = validate(data)
    (set_result,) = result.sets
    return result, set_result


def element_errors(set_result) -> list[tuple[str, int, int, str | None, str, str | None]]:
    """(segment, position in set, element, element number, AK403, bad value) of every AK4."""
    return [
        (s.segment_id, s.position, e.position, e.data_element, e.code, e.value)
        for s in set_result.segment_errors
        for e in s.elements
    ]


def segment_codes(set_result) -> list[tuple[str, int, str]]:
    return [(s.segment_id, s.position, s.code) for s in set_result.segment_errors]


@pytest.mark.parametrize("data", VALID.values(), ids=VALID.keys())
def test_valid_sets_are_accepted_in_4010_and_5010(data):
    result, set_result = only_set(data)

    assert set_result.status is SetStatus.ACCEPTED, set_result.messages
    assert set_result.segment_errors == []
    assert result.all_accepted


# -- AK3 segment errors ---------------------------------------------------------------


def test_a_missing_mandatory_segment_is_ak304_3_at_the_segment_where_it_was_due():
    _, set_result = only_set(interchange([("852", REPORT_852[1:])]))  # no XQ

    assert set_result.status is SetStatus.REJECTED
    assert segment_codes(set_result) == [("XQ", 2, "3")]
    assert set_result.set_errors == ["5"]
    assert "mandatory segment XQ (Reporting Date/Action) is missing" in set_result.messages[0]


def test_a_segment_no_852_has_is_ak304_1():
    body = [*REPORT_852[:3], "FOO*1", *REPORT_852[3:]]

    _, set_result = only_set(interchange([("852", body)]))

    assert segment_codes(set_result) == [("FOO", 5, "1")]
    assert set_result.messages == ["FOO segment 5 (file segment 7): FOO is not a segment of an 852"]


def test_an_852_segment_out_of_place_is_ak304_2():
    body = [*REPORT_852[:-1], "XQ*H*20261109*20261115", "CTT*2"]  # a second XQ after the detail

    _, set_result = only_set(interchange([("852", body)]))

    assert segment_codes(set_result) == [("XQ", 11, "2")]


def test_a_lin_without_za_is_a_missing_mandatory_za_loop():
    body = ["XQ*H*20261109*20261115", "LIN**UP*012345678905", "LIN**UP*012345678912", "ZA*QA*1*EA"]

    _, set_result = only_set(interchange([("852", body)]))

    assert segment_codes(set_result) == [("ZA", 4, "3")]
    assert set_result.status is SetStatus.REJECTED


def test_a_segment_repeated_beyond_its_maximum_is_ak304_5():
    body = ["BAK*00*AC*PO-1001*20261116", *["PER*BD*Jo"] * 4]  # PER max 3

    _, set_result = only_set(interchange([("855", body)], gs01="PR"))

    assert segment_codes(set_result) == [("PER", 6, "5")]


# -- AK4 element errors ----------------------------------------------------------------


def test_a_code_not_in_the_list_is_ak403_7_and_the_message_lists_the_codes():
    body = ["BAK*00*XX*PO-1001*20261116", *ACK_855[1:]]

    _, set_result = only_set(interchange([("855", body)], gs01="PR"))

    assert element_errors(set_result) == [("BAK", 2, 2, "587", "7", "XX")]
    assert (
        "element BAK02 (Acknowledgment Type) 'XX' is not a valid code; expected one of AC, AD"
        in (set_result.messages[0])
    )


def test_an_unknown_ack01_is_an_invalid_code_not_an_unknown_segment():
    body = [*ACK_855[:4], "ACK*ZZ*100*EA", *ACK_855[5:]]

    _, set_result = only_set(interchange([("855", body)], gs01="PR"))

    assert element_errors(set_result) == [("ACK", 6, 1, "668", "7", "ZZ")]


def test_an_unknown_za01_activity_code_is_accepted():
    body = [*REPORT_852[:4], "ZA*QZ*10*EA", *REPORT_852[4:]]

    _, set_result = only_set(interchange([("852", body)]))

    assert set_result.status is SetStatus.ACCEPTED
    assert set_result.segment_errors == []


def test_a_value_too_long_is_ak403_5():
    body = [*REPORT_852[:4], "ZA*QSX*10*EA", *REPORT_852[4:]]

    _, set_result = only_set(interchange([("852", body)]))

    assert element_errors(set_result) == [("ZA", 6, 1, "859", "5", "QSX")]
    assert "'QSX' is too long; it takes exactly 2 characters" in set_result.messages[0]


def test_a_missing_mandatory_element_is_ak403_1():
    body = [*REPORT_852[:3], "LIN**UP", *REPORT_852[4:]]

    _, set_result = only_set(interchange([("852", body)]))

    assert element_errors(set_result) == [("LIN", 5, 3, "234", "1", None)]
    assert set_result.messages == [
        "LIN segment 5 (file segment 7): element LIN03 (Product/Service ID) is missing; it is mandatory"
    ]


def test_an_impossible_date_is_ak403_8():
    body = ["XQ*H*20261109*20261131", *REPORT_852[1:]]

    _, set_result = only_set(interchange([("852", body)]))

    assert element_errors(set_result) == [("XQ", 2, 3, "373", "8", "20261131")]


def test_an_impossible_time_is_ak403_9():
    body = ["BSN*00*SHIP-1001*20261118*2575*0001", *SHIP_856[1:]]

    _, set_result = only_set(interchange([("856", body)], gs01="SH"))

    assert element_errors(set_result) == [("BSN", 2, 4, "337", "9", "2575")]


def test_a_broken_pair_rule_names_the_missing_element_with_ak403_2():
    body = [*REPORT_852[:4], "ZA*QS*5*EA*002", *REPORT_852[4:]]  # ZA04 without ZA05

    _, set_result = only_set(interchange([("852", body)]))

    assert element_errors(set_result) == [("ZA", 6, 5, "373", "2", None)]
    assert "element ZA05 (Date) is missing: ZA04, ZA05 go together" in set_result.messages[0]


def test_too_many_elements_is_ak403_3_on_the_first_extra_element():
    body = [
        "XQ*H*20261109*20261115",
        "N1*BY*Demo*92*DEMO",
        "N3*1 Main St*Unit 2*Extra",
        *REPORT_852[3:],
    ]

    _, set_result = only_set(interchange([("852", body)]))

    assert element_errors(set_result) == [("N3", 4, 3, None, "3", "Extra")]


def test_an_hl_naming_a_parent_that_does_not_precede_it_is_rejected():
    body = [*SHIP_856[:7], "HL*2*9*O", *SHIP_856[8:]]

    _, set_result = only_set(interchange([("856", body)], gs01="SH"))

    assert element_errors(set_result) == [("HL", 9, 2, "734", "7", "9")]
    assert set_result.status is SetStatus.REJECTED
    assert set_result.messages == [
        "HL segment 9 (file segment 11): HL02 '9' names no earlier HL01 of this set, so "
        "the level has no parent"
    ]


# -- notes, not rejections ---------------------------------------------------------------


def test_non_ascii_text_is_noted_as_ak403_6_but_the_set_is_accepted_with_errors():
    body = ["XQ*H*20261109*20261115", "N1*BY*Müller Märkte*92*MUELLER", *REPORT_852[2:]]

    _, set_result = only_set(interchange([("852", body)]))

    assert set_result.status is SetStatus.ACCEPTED_WITH_ERRORS
    assert element_errors(set_result) == [("N1", 3, 2, None, "6", "Müller Märkte")]


def test_an_852_under_a_wrong_gs01_is_validated_as_an_852_with_a_note():
    result, set_result = only_set(interchange([("852", REPORT_852)], gs01="SQ"))

    assert set_result.status is SetStatus.ACCEPTED
    (group,) = result.groups
    assert group.status is SetStatus.ACCEPTED
    assert group.messages == [
        "GS01 'SQ' is not the functional identifier of 852 sets ('PD'); its sets were "
        "validated against the 004010 852 map."
    ]


def test_hl01_out_of_sequence_is_only_a_note():
    body = [
        *SHIP_856[:7],
        "HL*5*1*O",
        "PRF*PO-1001",
        "HL*6*5*I",
        "LIN**UP*012345678905",
        "SN1**100*EA",
    ]

    _, set_result = only_set(interchange([("856", body)], gs01="SH"))

    assert set_result.status is SetStatus.ACCEPTED
    assert set_result.messages[0].startswith(
        "HL segment 9 (file segment 11): HL01 '5' is out of sequence (expected 2)"
    )


# -- what the reader finds is kept -------------------------------------------------------


def test_envelope_errors_from_the_reader_are_kept_with_the_map_errors():
    data = interchange([("852", REPORT_852[1:])]).replace(b"SE*11*0001", b"SE*99*0001")

    _, set_result = only_set(data)

    assert set_result.set_errors == ["4", "5"]
    assert (
        set_result.messages[0]
        == "SE01 says 99 segments but set 852 0001 has 11 (ST and SE included)"
    )
    assert segment_codes(set_result) == [("XQ", 2, "3")]


def test_a_set_we_have_no_map_for_is_rejected_as_not_supported():
    _, set_result = only_set(interchange([("860", ["BCH*01*SA*PO-1**20261116"])], gs01="PC"))

    assert set_result.status is SetStatus.REJECTED
    assert set_result.set_errors == ["1"]
    assert "transaction set 860 is not one we validate" in set_result.messages[0]
    # the sets we do take, named from validation.SUPPORTED
    assert "(we take 810, 820, 846, 850, 852, 855, 856, 997 and 999)" in set_result.messages[0]


def test_a_set_of_another_kind_in_a_group_is_rejected_and_the_others_validated():
    data = interchange([("852", REPORT_852), ("855", ACK_855)])

    (result,) = validate(data)

    assert [s.status for s in result.sets] == [SetStatus.ACCEPTED, SetStatus.REJECTED]
    assert result.sets[1].set_errors == ["6"]
    assert result.groups[0].status is SetStatus.PARTIALLY_ACCEPTED


def test_each_interchange_of_a_file_gets_its_own_verdict():
    good = interchange([("852", REPORT_852)], control=1)
    bad = interchange([("852", REPORT_852[1:])], control=2)

    first, second = validate(good + bad)

    assert (first.control_number, first.sets[0].status) == ("000000001", SetStatus.ACCEPTED)
    assert (second.control_number, second.sets[0].status) == ("000000002", SetStatus.REJECTED)
    assert segment_codes(second.sets[0]) == [("XQ", 2, "3")]
    # the second interchange starts at file segment 17; N1, where XQ was due, is 20
    assert second.sets[0].segment_errors[0].file_segment_number == 20


# -- formatting partners really use is not a defect --------------------------------------


def _formatting_variants() -> dict[str, bytes]:
    clean = VALID["852-4010"]
    text = clean.decode()
    isa, rest = text.split("~\n", 1)
    unpadded = "*".join(part.strip() for part in isa.split("*")[:-1]) + "*>"
    return {
        "bom": BOM + clean,
        "crlf": clean.replace(b"~\n", b"~\r\n"),
        "newline-terminated": clean.replace(b"~\n", b"\n"),
        "single-line": clean.replace(b"~\n", b"~"),
        "indented": clean.replace(b"~\n", b"~\n    "),
        "unpadded-isa": (unpadded + "~\n" + rest).encode(),
        "caret-terminator": clean.replace(b"~\n", b"^\r\n"),
        "isa12-00400": clean.replace(b"*00401*", b"*00400*"),
    }


@pytest.mark.parametrize("data", _formatting_variants().values(), ids=_formatting_variants().keys())
def test_formatting_variants_are_not_validation_failures(data):
    result, set_result = only_set(data)

    assert set_result.status is SetStatus.ACCEPTED, set_result.messages
    assert result.interchange_errors == []
    assert result.all_accepted


def test_a_segment_terminator_that_occurs_in_the_data_does_not_split_segments():
    # newline-terminated file whose data holds '~': the copy for pyx12 must not use '~'
    body = ["XQ*H*20261109*20261115", "N1*BY*Demo~Retail*92*DEMORETAIL", *REPORT_852[2:]]
    data = interchange([("852", body)]).replace(b"~\n", b"\n")

    _, set_result = only_set(data)

    assert set_result.status is SetStatus.ACCEPTED, set_result.messages


# -- robustness ----------------------------------------------------------------------------


def test_when_the_validator_fails_the_sets_are_not_accepted_and_the_reason_is_given(
    monkeypatch, engine
):
    def broken(*args, **kwargs):
        raise RuntimeError("map walker lost")

    if engine == "pyx12":
        monkeypatch.setattr(validation.pyx12.x12n_document, "x12n_document", broken)
    else:
        monkeypatch.setattr(validation.Engine, "_feed", broken)

    result, set_result = only_set(VALID["852-4010"])

    assert set_result.status is SetStatus.REJECTED
    assert "RuntimeError: map walker lost" in result.interchange_errors[0]
    assert "could not be validated" in set_result.messages[0]


def test_pyx12_logs_nothing(caplog, capsys):
    validate(interchange([("852", REPORT_852[1:])]))

    assert [r for r in caplog.records if r.name.startswith("pyx12")] == []
    assert capsys.readouterr().err == ""


# -- the verdict feeds the acknowledgment, which our own maps accept -----------------------


@pytest.mark.parametrize("ack_type", ["997", "999"])
def test_the_acknowledgment_written_from_a_result_carries_the_codes_and_validates(ack_type):
    from smi_edi.x12.acks import acknowledgment_for
    from smi_edi.x12.reader import Delimiters
    from smi_edi.x12.writer import CountingControlNumbers

    body = [*REPORT_852[:4], "ZA*QSX*10*EA", *REPORT_852[4:]]
    (result,) = validate(interchange([("852", body)]))

    ack = acknowledgment_for(
        result,
        ack_type=ack_type,
        delimiters=Delimiters(),
        control_numbers=CountingControlNumbers(),
    )

    tag = "IK" if ack_type == "999" else "AK"
    assert f"{tag}3*ZA*6**8~".encode() in ack
    assert f"{tag}4*1*859*5*QSX~".encode() in ack
    assert f"{tag}5*R*5~".encode() in ack
    ((ack_result,),) = [r.sets for r in validate(ack)]
    assert ack_result.status is SetStatus.ACCEPTED, ack_result.messages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 6)), min_size=1, max_size=4),
    junk=st.text(alphabet="*~:>^ABZ019\n\xe9", max_size=6),
)
def test_damaged_files_give_a_verdict_or_a_syntax_error_never_a_crash(cuts, junk):
    data = bytearray(VALID["856-4010"])
    for start, length in cuts:
        start = 107 + start % (len(data) - 107)  # keep the ISA, damage the rest
        data[start : start + length] = junk.encode()

    try:
        results = validate(bytes(data))
    except X12SyntaxError:
        return
    assert results, "a readable file has at least one interchange"
    for result in results:
        for set_result in result.sets:
            assert set_result.status in SetStatus
            if set_result.segment_errors or set_result.set_errors:
                assert set_result.status is not SetStatus.ACCEPTED


def test_a_ge01_that_is_not_a_number_is_the_readers_finding_not_a_validator_crash():
    data = VALID["852-4010"].replace(b"GE*1*7", b"GE*1A*7")

    result, set_result = only_set(data)

    assert result.interchange_errors == []
    assert set_result.status is SetStatus.ACCEPTED
    assert result.groups[0].group_errors == ["5"]
    assert result.groups[0].status is SetStatus.REJECTED


def test_a_no_break_space_in_the_isa_is_named_in_the_reason_not_shown_as_mojibake():
    """A UTF-8 no-break space padding ISA06 used to read as 'Â\xa0' (Latin-1) and pass
    silently; it is one character, named, and reported."""
    data = interchange([("852", REPORT_852)]).replace(
        b"DEMORETAIL     ", "DEMORETAIL\u00a0\u00a0\u00a0  ".encode()
    )

    (result,) = validate(data)

    assert result.sender_id == "DEMORETAIL\u00a0\u00a0\u00a0"
    assert result.interchange_errors == [
        "ISA06 'DEMORETAIL<U+00A0 NO-BREAK SPACE><U+00A0 NO-BREAK SPACE>"
        "<U+00A0 NO-BREAK SPACE>' contains characters outside ASCII; "
        "they were read as '?' for validation"
    ]
