"""The project's pyx12 map directory: regenerated files match the committed ones, pyx12 can
load and index every map, and the data elements and code lists are the X12 ones."""

from __future__ import annotations

import pytest
from lxml import etree
from pyx12.map_if import load_map_file
from pyx12.map_index import map_index
from pyx12.params import params

from smi_edi.x12 import maps_build
from smi_edi.x12.maps_build import MAPS_DIR

MAP_FILES = sorted(p.name for p in MAPS_DIR.glob("*.xml") if p.name[0].isdigit())


def data_elements() -> dict[str, tuple[str, int, int]]:
    root = etree.parse(str(MAPS_DIR / "dataele.xml")).getroot()
    return {
        el.get("ele_num"): (el.get("data_type"), int(el.get("min_len")), int(el.get("max_len")))
        for el in root.iter("data_ele")
    }


def test_the_committed_maps_are_what_the_builder_writes():
    assert maps_build.stale() == []


def test_the_directory_holds_everything_pyx12_reads():
    names = {p.name for p in MAPS_DIR.iterdir()}

    assert {
        "maps.xml",
        "dataele.xml",
        "codes.xml",
        "x12.control.00401.xml",
        "x12.control.00501.xml",
    } <= names
    assert MAP_FILES == [
        "810.4010.xml",
        "810.5010.xml",
        "820.4010.xml",
        "820.5010.xml",
        "846.4010.xml",
        "846.5010.xml",
        "850.4010.xml",
        "850.5010.xml",
        "852.4010.xml",
        "852.5010.xml",
        "855.4010.xml",
        "855.5010.xml",
        "856.4010.xml",
        "856.5010.xml",
        "997.4010.xml",
        "997.5010.xml",
        "999.5010.xml",
    ]


@pytest.mark.parametrize(
    ("isa12", "gs08", "gs01", "expected"),
    [
        ("00401", "004010", "PO", "850.4010.xml"),
        ("00401", "004010", "PD", "852.4010.xml"),
        ("00401", "004010VICS", "SH", "856.4010.xml"),
        ("00401", "004010X358", "PR", "855.4010.xml"),
        ("00501", "005010", "PD", "852.5010.xml"),
        ("00501", "005010", "SH", "856.5010.xml"),
        ("00401", "004010", "FA", "997.4010.xml"),
        ("00501", "005010X230", "FA", "997.5010.xml"),
        ("00501", "005010X231A1", "FA", "999.5010.xml"),
        ("00401", "005010", "PR", "855.5010.xml"),
        ("00401", "004010", "IN", "810.4010.xml"),
        ("00501", "005010", "RA", "820.5010.xml"),
        ("00401", "004010VICS", "IB", "846.4010.xml"),
    ],
)
def test_pyx12_finds_our_map_by_version_and_functional_id(isa12, gs08, gs01, expected):
    assert map_index(str(MAPS_DIR)).get_filename(isa12, gs08, gs01) == expected


@pytest.mark.parametrize("name", MAP_FILES)
def test_pyx12_loads_every_map_and_reads_its_version(name):
    loaded = load_map_file(name, params(), str(MAPS_DIR))

    assert loaded.id == name.split(".")[0]
    assert loaded.icvn == ("00501" if ".5010." in name else "00401")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("330", ("R", 1, 15)),  # quantity ordered (PO102)
        ("355", ("ID", 2, 2)),  # unit of measure
        ("373", ("DT", 8, 8)),
        ("374", ("ID", 3, 3)),
        ("235", ("ID", 2, 2)),
        ("234", ("AN", 1, 48)),
        ("859", ("ID", 2, 2)),  # ZA01 activity code
        ("587", ("ID", 2, 2)),  # BAK02 acknowledgment type
        ("668", ("ID", 2, 2)),  # ACK01 line item status
        ("382", ("R", 1, 10)),  # SN102 units shipped
        ("354", ("N0", 1, 6)),  # CTT01 number of line items
        ("347", ("R", 1, 10)),  # CTT02 hash total
        ("396", ("AN", 2, 30)),  # BSN02 shipment identification
        ("1005", ("ID", 4, 4)),  # BSN05 hierarchical structure
        ("735", ("ID", 1, 2)),
        ("736", ("ID", 1, 1)),
        ("628", ("AN", 1, 12)),
        ("734", ("AN", 1, 12)),
        ("87", ("AN", 1, 48)),
        ("88", ("ID", 1, 2)),
        ("80", ("N0", 1, 7)),
        ("79", ("AN", 1, 50)),
        ("187", ("ID", 1, 2)),
        ("81", ("R", 1, 10)),
        ("353", ("ID", 2, 2)),
        ("337", ("TM", 4, 8)),
        ("127", ("AN", 1, 50)),  # 1/30 in 004010, 1/50 in 005010: the wider
    ],
)
def test_data_elements_have_their_x12_type_and_length(number, expected):
    assert data_elements()[number] == expected


def test_every_element_a_map_refers_to_is_defined():
    known = set(data_elements())

    for name in MAP_FILES:
        root = etree.parse(str(MAPS_DIR / name)).getroot()
        unknown = {el.findtext("data_ele") for el in root.iter("element")} - known
        assert unknown == set(), name


def test_the_builder_refuses_a_map_that_names_an_undefined_element():
    trees = {
        "maps.xml": maps_build.build_index(),
        "dataele.xml": maps_build.build_dataele(),
        "codes.xml": maps_build.build_codes(),
    }
    broken = maps_build.build_control_map("00401")
    next(broken.iter("data_ele")).text = "99999"
    trees["x12.control.00401.xml"] = broken

    with pytest.raises(ValueError, match="refers to unknown element 99999"):
        maps_build._check(trees)


def _elements(map_name: str, xid: str) -> list[etree._Element]:
    root = etree.parse(str(MAPS_DIR / map_name)).getroot()
    return [el for el in root.iter("element") if el.get("xid") == xid]


@pytest.mark.parametrize("map_name", ["852.4010.xml", "852.5010.xml"])
def test_za01_activity_codes_are_open(map_name):
    (za01,) = _elements(map_name, "ZA01")

    assert za01.find("valid_codes") is None
    assert za01.findtext("usage") == "R"


def test_closed_code_lists_are_external_so_they_never_decide_which_segment_it_is():
    ack01 = _elements("855.4010.xml", "ACK01")
    codes = etree.parse(str(MAPS_DIR / "codes.xml")).getroot()
    ack_codes = next(cs for cs in codes.iter("codeset") if cs.findtext("id") == "x12_668")

    assert {el.find("valid_codes").get("external") for el in ack01} == {"x12_668"}
    assert all(el.find("valid_codes/code") is None for el in ack01)
    assert {"IA", "IB", "IQ", "IR", "DR", "IP", "IC", "IS"} <= {
        c.text for c in ack_codes.iter("code")
    }


def test_mandatory_segments_stay_mandatory():
    def usage(map_name: str, xid: str, tag: str = "segment") -> set[str]:
        root = etree.parse(str(MAPS_DIR / map_name)).getroot()
        return {el.findtext("usage") for el in root.iter(tag) if el.get("xid") == xid}

    assert usage("852.4010.xml", "XQ") == {"R"}
    assert usage("852.4010.xml", "ZA", "loop") == {"R"}
    assert usage("855.4010.xml", "BAK") == {"R"}
    assert usage("856.4010.xml", "BSN") == {"R"}
    assert usage("856.4010.xml", "HL", "loop") == {"R"}
