"""Long commands show a progress bar on stderr (on a terminal, or with SMI_PROGRESS=1);
stdout keeps only the results, so a pipe or --json is not disturbed."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from smi_edi.services.partners import partner_add
from tests.x12_builders import interchange, report_852

WEEK = report_852(lines=[("VN*ACME-1001", ["ZA*QA*12*EA", "SDQ*EA*92*S001*7"])])


def test_x12_validate_shows_a_progress_bar_by_file_size(tmp_path, monkeypatch):
    monkeypatch.setenv("SMI_PROGRESS", "1")
    path = tmp_path / "week.edi"
    path.write_bytes(interchange([WEEK] * 50, control=3))
    out, err = io.StringIO(), io.StringIO()

    call_command("x12_validate", str(path), "--json", stdout=out, stderr=err)

    assert "validating week.edi" in err.getvalue()
    assert " MB" in err.getvalue()
    assert json.loads(out.getvalue())[0]["readable"] is True  # stdout: the results only


def test_no_progress_bar_when_the_output_is_not_a_terminal(tmp_path, monkeypatch):
    monkeypatch.delenv("SMI_PROGRESS", raising=False)
    path = tmp_path / "week.edi"
    path.write_bytes(interchange([WEEK], control=3))
    err = io.StringIO()

    call_command("x12_validate", str(path), "--json", stdout=io.StringIO(), stderr=err)

    assert err.getvalue() == ""


@pytest.mark.django_db
def test_x12_ingest_wait_shows_progress(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("SMI_PROGRESS", "1")
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    partner_add(code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier")
    partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    path = tmp_path / "week.edi"
    path.write_bytes(interchange([WEEK], control=5))
    out, err = io.StringIO(), io.StringIO()

    call_command("x12_ingest", str(path), "--wait", "--json", stdout=out, stderr=err)

    assert "taking in week.edi" in err.getvalue()
    assert json.loads(out.getvalue())[0]["status"] in ("applied", "accepted_with_errors")
