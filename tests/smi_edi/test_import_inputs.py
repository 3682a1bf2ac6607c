"""Command-line inputs that used to crash or be taken although wrong (issue 13, findings 8
and 9): partner_add's ids and names, x12_poll's inbox, erp_import's encoding and rows."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from smi_core.models import Party
from smi_edi.models import TradingPartner

pytestmark = pytest.mark.django_db


def partner_add(*args):
    call_command("partner_add", "newbie", "--name", "New", *args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--isa", "ZZ:ACM\u00c9"], "ISA id 'ACMÉ' holds 'É'; only printable ASCII is allowed"),
        (["--isa", "ZZ:ACME*1"], "ISA id 'ACME*1' holds '*', an X12 delimiter"),
        (["--isa", "ZZ:ACME~1"], "ISA id 'ACME~1' holds '~', an X12 delimiter"),
        (["--isa", "ZZ:AC:ME"], "ISA id 'AC:ME' holds ':', an X12 delimiter"),
        (["--isa", "ZZ:ACME\t1"], "only printable ASCII is allowed"),
        (["--isa", "ZZ:" + "A" * 16], "has 16 characters; it must have 1 to 15"),
        (["--isa", "ZZ:ACME", "--gs", "AC^ME"], "GS id 'AC^ME' holds '^', an X12 delimiter"),
        (["--isa", "ZZ:ACME", "--gs", "G" * 16], "GS id 'GGGGGGGGGGGGGGGG' has 16 characters"),
        (["--isa", "ZZ:ACME", "--name", "n" * 500], "name: 500 characters; at most 200"),
        (["--isa", "ZZ:ACME", "--gln", "12345"], "GLN '12345' is not 13 digits"),
        (
            ["--isa", "ZZ:ACME", "--gln", "0614141000013"],
            "GLN '0614141000013' has check digit 3, but the digits before it give 2",
        ),
        (
            ["--isa", "ZZ:ACME", "--x12-version", "0040100000000"],
            "x12_version: 13 characters; at most 12",
        ),
        (["--isa", "ZZ:ACME", "--x12-version", "004010*"], "X12 version '004010*' holds '*'"),
    ],
    ids=[
        "isa-non-ascii",
        "isa-element-separator",
        "isa-segment-terminator",
        "isa-component-separator",
        "isa-tab",
        "isa-16-characters",
        "gs-repetition-separator",
        "gs-16-characters",
        "name-500-characters",
        "gln-short",
        "gln-check-digit",
        "x12-version-too-long",
        "x12-version-delimiter",
    ],
)
def test_partner_add_refuses_ids_that_would_break_an_envelope(args, message):
    with pytest.raises(CommandError) as excinfo:
        partner_add(*args)

    assert message in str(excinfo.value)
    assert not Party.objects.filter(code="newbie").exists()
    assert not TradingPartner.objects.exists()


def test_partner_add_refuses_a_code_too_long_for_the_party():
    with pytest.raises(CommandError, match="code: 33 characters; at most 32"):
        call_command("partner_add", "c" * 33, "--name", "New", "--isa", "ZZ:ACME")


def test_partner_add_takes_a_valid_gln():
    partner_add("--isa", "ZZ:ACME", "--gln", "0614141000012")

    assert Party.objects.get(code="newbie").gln == "0614141000012"


def test_x12_poll_on_a_file_is_an_error_not_a_traceback(tmp_path):
    not_a_folder = tmp_path / "852.edi"
    not_a_folder.write_text("ISA*00*")

    with pytest.raises(CommandError, match=r"--inbox .*852\.edi is a file, not a folder"):
        call_command("x12_poll", "--inbox", str(not_a_folder), "--once")

    assert not_a_folder.read_text() == "ISA*00*"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"po_number,vendor_item,confirmed_quantity\nPO-1,ACME-1001,24\nPO-1,ACM\xc9-2,1\n",
            r"confirm.csv:3: byte 68 \(0xC9, column 9\) is not UTF-8",
        ),
        (
            b"po_number,vendor_item,confirmed_quantity\nPO-1,ACME-1001\n",
            "confirm.csv:2: row: has 2 of 3 values; it was cut short",
        ),
    ],
    ids=["latin-1", "cut-short"],
)
def test_erp_import_names_the_line_of_a_bad_file(tmp_path, data, message):
    Party.objects.create(code="acme-supply", name="Acme", role="supplier")
    path = tmp_path / "confirm.csv"
    path.write_bytes(data)

    with pytest.raises(CommandError, match=message):
        call_command("erp_import", str(path), supplier="acme-supply")


def test_erp_import_lists_every_bad_row_not_only_the_first(tmp_path):
    Party.objects.create(code="acme-supply", name="Acme", role="supplier")
    path = tmp_path / "confirm.csv"
    path.write_text(
        "po_number,vendor_item,confirmed_quantity\nPO-1,ACME-1001,24\nPO-2,ACME-1002,ten\n"
    )

    with pytest.raises(CommandError) as excinfo:
        call_command("erp_import", str(path), supplier="acme-supply")

    message = str(excinfo.value)
    assert message.startswith("2 bad row(s); nothing was imported")
    assert "confirm.csv:2: acme-supply has no order with PO 'PO-1'" in message
    assert "confirm.csv:3: " in message
