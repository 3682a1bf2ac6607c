"""The copy fed to pyx12: a 106-character ISA, one single-character terminator that never
occurs in the data, versions pyx12 knows, ASCII only, segments 1:1 with the file (or
mapped back when a group is left out)."""

from __future__ import annotations

from smi_edi.x12.normalise import GroupPlan, LineMap, normalise_source, pyx12_version

BOM = b"\xef\xbb\xbf"
ISA = (
    "ISA*00*          *00*          *ZZ*DEMORETAIL     *ZZ*ACMESUPPLY     *261116*0600*"
    "U*00401*000000007*0*P*>"
)


def file(*segments: str, isa: str = ISA, terminator: str = "~\n") -> bytes:
    return (terminator.join([isa, *segments]) + terminator).encode()


ENVELOPED = [
    "GS*PD*DEMORETAIL*ACMESUPPLY*20261116*0600*7*X*004010",
    "ST*852*0001",
    "XQ*H*20261109*20261115",
    "SE*3*0001",
    "GE*1*7",
    "IEA*1*000000007",
]


def only(data: bytes, **kwargs):
    (copy,) = normalise_source(data, **kwargs)
    return copy


def test_a_clean_file_is_copied_segment_for_segment():
    copy = only(file(*ENVELOPED))

    assert copy.segments() == [ISA, *ENVELOPED]
    assert copy.text.count("~") == 7
    assert [copy.lines.file_segment(n) for n in range(1, 8)] == list(range(1, 8))


def test_bom_whitespace_and_an_unpadded_isa_are_normalised_away():
    unpadded = "*".join(p.strip() for p in ISA.split("*")[:-1]) + "*>"
    data = BOM + file(*ENVELOPED, isa=unpadded, terminator="~\r\n   ")

    copy = only(data)

    assert copy.text.startswith("ISA*")
    assert copy.text.index("~") == 105  # the ISA is 106 characters with its terminator
    assert copy.segments()[0] == ISA
    assert "\n" not in copy.text and "\r" not in copy.text


def test_isa12_is_mapped_to_a_version_pyx12_knows_only_in_the_copy():
    isa_00406 = ISA.replace("*U*00401*", "*^*00406*")

    copy = only(file(*ENVELOPED, isa=isa_00406))

    assert (copy.original_version, copy.version) == ("00406", "00401")
    isa = copy.segment_elements(1)
    assert (isa[11], isa[12]) == ("U", "00401")  # ISA11 was a repetition separator
    assert copy.summary.version == "00406"
    assert [pyx12_version(v) for v in ("00200", "00400", "00501", "00601")] == [
        "00401",
        "00401",
        "00501",
        "00501",
    ]


def test_a_terminator_found_in_the_data_is_replaced_by_an_unused_one():
    segments = [*ENVELOPED]
    segments[2] = "XQ*H*20261109*20261115"
    segments.insert(3, "N1*BY*Demo~Retail*92*DEMO")
    segments[4] = "SE*4*0001"
    data = file(*segments, terminator="\n")  # newline-terminated; '~' is data

    copy = only(data)

    assert copy.terminator != "~"
    assert copy.segment_elements(5) == ["N1", "BY", "Demo~Retail", "92", "DEMO"]
    assert len(copy.segments()) == 8


def test_a_control_character_component_separator_is_replaced():
    isa = ISA[:-1] + "\x1f"
    segments = [*ENVELOPED]
    segments.insert(3, "REF*ZZ*A\x1fB")
    segments[4] = "SE*4*0001"

    copy = only(file(*segments, isa=isa))

    assert copy.component.isprintable()
    assert copy.segments()[0][-1] == copy.component
    assert copy.segment_elements(5) == ["REF", "ZZ", f"A{copy.component}B"]


def test_non_ascii_is_replaced_and_reported_with_its_position():
    segments = [*ENVELOPED]
    segments.insert(3, "REF*ZZ*ok>Größe")
    segments[4] = "SE*4*0001"

    copy = only(file(*segments))

    assert copy.segment_elements(5) == ["REF", "ZZ", "ok>Gr??e"]
    (replacement,) = copy.replacements
    assert (replacement.segment_number, replacement.segment_id) == (5, "REF")
    assert (replacement.element, replacement.component, replacement.value) == (2, 2, "Größe")
    assert copy.text.isascii()


def test_trailing_empty_elements_are_dropped():
    segments = [*ENVELOPED]
    segments.insert(3, "N1*ST*Ship to**")
    segments[4] = "SE*4*0001"

    copy = only(file(*segments))

    assert copy.segments()[4] == "N1*ST*Ship to"


def test_a_group_left_out_is_mapped_around():
    other_group = [
        "GS*IN*DEMORETAIL*ACMESUPPLY*20261116*0600*8*X*004010",
        "ST*810*0001",
        "BIG*20261116*INV-1",
        "SE*3*0001",
        "GE*1*8",
    ]
    data = file(*other_group, *ENVELOPED[:-1], "IEA*2*000000007")

    def plan(ctx):
        if ctx.first_set_id == "810":
            return GroupPlan(include=False, set_code="1", message="not supported")
        return GroupPlan(include=True, gs01=ctx.gs[1], gs08=ctx.gs[8], set_id=ctx.first_set_id)

    copy = only(data, plan_group=plan)

    assert [s.split("*")[0] for s in copy.segments()] == [
        "ISA",
        "GS",
        "ST",
        "XQ",
        "SE",
        "GE",
        "IEA",
    ]
    assert [copy.lines.file_segment(n) for n in range(1, 8)] == [1, 7, 8, 9, 10, 11, 12]
    (skipped,) = copy.skipped_sets
    assert (skipped.segment_number, skipped.set_id, skipped.code) == (3, "810", "1")


def test_line_map_runs():
    lines = LineMap()
    for number in [1, 2, 3, 7, 8, 20]:
        lines.append(number)

    assert [lines.file_segment(n) for n in range(1, 7)] == [1, 2, 3, 7, 8, 20]
    assert lines.file_segment(7) is None
    assert (lines.line(8), lines.line(5)) == (5, None)
