"""Drop folders: files move to processed/ or failed/, never lost or doubled across crashes."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from smi_core.models import ProductActivity
from smi_edi.models import Interchange
from smi_edi.services.drop_folder import folder_poll
from smi_edi.services.interchanges import interchange_receive
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db

WEEK = report_852(lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*15"])])


@pytest.fixture
def folders(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier")
    buyer, _ = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    LocationFactory(party=buyer.party, code="S001")
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001")
    inbox = tmp_path / "edi" / "inbox"
    inbox.mkdir(parents=True)
    return inbox


def test_good_files_go_to_processed_and_bad_ones_to_failed_with_a_reason(folders):
    (folders / "week.edi").write_bytes(interchange([WEEK]))
    (folders / "notes.txt").write_text("not an interchange")

    results = folder_poll(inbox=folders, settle_seconds=0)

    assert sorted(r.name for r in results) == ["notes.txt", "week.edi"]
    processed, failed = folders.parent / "processed", folders.parent / "failed"
    assert (processed / "week.edi").read_bytes() == interchange([WEEK])
    assert (failed / "notes.txt").exists()
    assert "does not start with an ISA" in (failed / "notes.txt.reason.txt").read_text()
    assert list(folders.glob("*")) == [folders / ".processing"]
    assert Interchange.objects.get().status == "applied"


def test_a_file_still_being_written_is_left_alone(folders):
    (folders / "fresh.edi").write_bytes(interchange([WEEK]))

    assert folder_poll(inbox=folders, settle_seconds=3600) == []
    assert (folders / "fresh.edi").exists()


def test_a_crash_after_storing_but_before_moving_does_not_double_the_file(folders):
    # given a poller that stored the file and then died before moving it out of .processing
    claimed = folders / ".processing"
    claimed.mkdir()
    data = interchange([WEEK])
    (claimed / "week.edi").write_bytes(data)
    first = interchange_receive(
        source=data, transport="folder", source_name="week.edi", actor="test"
    )

    folder_poll(inbox=folders, settle_seconds=0)

    assert Interchange.objects.count() == 1
    assert Interchange.objects.get().pk == first.pk
    assert Interchange.objects.get().status == "applied"
    assert ProductActivity.objects.count() == 1
    assert (folders.parent / "processed" / "week.edi").exists()


def test_a_name_already_in_processed_is_not_overwritten(folders):
    processed = folders.parent / "processed"
    processed.mkdir()
    (processed / "week.edi").write_text("earlier file")
    (folders / "week.edi").write_bytes(interchange([WEEK]))

    folder_poll(inbox=folders, settle_seconds=0)

    assert (processed / "week.edi").read_text() == "earlier file"
    assert (processed / "week.edi.1").read_bytes() == interchange([WEEK])


def test_the_command_polls_once_and_reports_each_file(folders, capsys):
    (folders / "week.edi").write_bytes(interchange([WEEK]))
    old = os.stat(folders / "week.edi").st_mtime - 10
    os.utime(folders / "week.edi", (old, old))

    call_command("x12_poll", "--inbox", str(folders), "--once")

    out = capsys.readouterr().out
    assert f"week.edi: interchange #{Interchange.objects.get().pk}" in out
    assert "1 file(s) taken in" in out
