"""Retry semantics of the ingestion task: transient errors are tried again, bad data is not,
and a task that gives up leaves the interchange visibly failed with the reason."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from smi_edi.models import Interchange
from smi_edi.services import interchanges
from smi_edi.services.interchanges import interchange_receive
from smi_edi.services.partners import partner_add
from smi_edi.tasks import TRANSIENT, ingest_interchange
from tests.factories import ItemFactory, LocationFactory
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db

WEEK = report_852(
    lines=[("VN*ACME-1001", ["ZA*QA**EA", "SDQ*EA*92*S001*15", "ZA*QS**EA", "SDQ*EA*92*S001*7"])]
)


@pytest.fixture
def received(settings, tmp_path, monkeypatch) -> Interchange:
    """One stored interchange, not yet processed; eager tasks record failures instead of
    raising them, as a worker would."""
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    LocationFactory(party=buyer.party, code="S001")
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1001")
    monkeypatch.setitem(ingest_interchange.app.conf, "task_eager_propagates", False)
    return interchange_receive(
        source=interchange([WEEK]), transport="cli", source_name="week.edi", actor="test"
    )


def failing_process(monkeypatch, error: Exception, *, times: int) -> list[int]:
    """Make the processing service raise ``error`` on its first ``times`` calls, then run
    for real; return the list of calls made."""
    real = interchanges.interchange_process
    calls: list[int] = []

    def process(*, interchange_id: int, actor: str):
        calls.append(interchange_id)
        if len(calls) <= times:
            raise error
        return real(interchange_id=interchange_id, actor=actor)

    monkeypatch.setattr(interchanges, "interchange_process", process)
    return calls


def test_operational_error_counts_as_transient():
    assert OperationalError in TRANSIENT
    assert set(ingest_interchange.autoretry_for) == set(TRANSIENT)


def test_a_transient_database_error_is_retried_until_the_file_is_applied(received, monkeypatch):
    calls = failing_process(monkeypatch, OperationalError("server closed the connection"), times=2)

    result = ingest_interchange.apply(args=[received.pk])

    received.refresh_from_db()
    assert len(calls) == 3
    assert result.state == "SUCCESS"
    assert result.result["status"] == "applied" and result.result["activity_rows"] == 2
    assert received.status == Interchange.Status.APPLIED


def test_a_transient_error_that_never_clears_gives_up_after_max_retries(received, monkeypatch):
    calls = failing_process(monkeypatch, OperationalError("database is down"), times=100)

    result = ingest_interchange.apply(args=[received.pk])

    received.refresh_from_db()
    assert len(calls) == ingest_interchange.max_retries + 1 == 7
    assert result.state == "FAILURE"
    assert received.status == Interchange.Status.FAILED
    assert received.status_reason == "OperationalError: database is down"


@pytest.mark.parametrize(
    "error",
    [ValueError("quantity 'abc' is not a number"), KeyError("ACME-1001")],
    ids=["value-error", "key-error"],
)
def test_a_data_error_is_not_retried_and_marks_the_interchange_failed(received, monkeypatch, error):
    calls = failing_process(monkeypatch, error, times=100)

    result = ingest_interchange.apply(kwargs={"interchange_id": received.pk})

    received.refresh_from_db()
    assert len(calls) == 1
    assert result.state == "FAILURE"
    assert received.status == Interchange.Status.FAILED
    assert received.status_reason.startswith(type(error).__name__ + ": ")
    change = received.status_changes.order_by("pk").last()
    assert (change.from_status, change.to_status) == ("received", "failed")
    assert change.actor.startswith("task:smi_edi.ingest_interchange:")


def test_on_failure_leaves_an_applied_interchange_alone(received, monkeypatch):
    ingest_interchange.apply(args=[received.pk])
    received.refresh_from_db()
    assert received.status == Interchange.Status.APPLIED

    ingest_interchange.on_failure(RuntimeError("late failure"), "task-id", (received.pk,), {}, None)

    received.refresh_from_db()
    assert received.status == Interchange.Status.APPLIED
