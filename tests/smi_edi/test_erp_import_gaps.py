"""erp_import applies nothing of a file with a refused order or shipment, yet every refusal
stays on record: an SoD denial, a lapsed approval, an 855 or 856 failing our validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from smi_core.models import AuditEvent, ExceptionItem, ProposalLine, ReplenishmentProposal, Shipment
from smi_core.services.audit import Actor
from smi_edi.models import OutboundDocument
from smi_edi.services.order_documents import order_acknowledge
from tests.factories import LocationFactory
from tests.orders import approved_order, build_world, person

pytestmark = pytest.mark.django_db
P = ReplenishmentProposal.Status
SHIPMENT_HEADER = "shipment_number,ship_date,po_number,pack,vendor_item,quantity\n"


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def ordered(world, **kwargs) -> ReplenishmentProposal:
    order = approved_order(world, **kwargs)
    order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    return ReplenishmentProposal.objects.get(pk=order.pk)


def events(action: str, order) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(order.pk)).order_by("id"))


def test_a_shipment_denied_by_sod_is_recorded_and_nothing_of_the_file_ships(world, tmp_path):
    first = ordered(world)
    both = person("approver-shipper", "approver", "shipper")
    world.users["approver"] = both
    second = ordered(world, store="S002")  # approved by approver-shipper: SOD-03
    shipments = tmp_path / "ship.csv"
    shipments.write_text(
        SHIPMENT_HEADER
        + f"ASN-1,2026-11-27,{first.po_number},1,ACME-1001,24\n"
        + f"ASN-2,2026-11-27,{second.po_number},1,ACME-1001,24\n"
    )

    with pytest.raises(CommandError, match=r"SOD-03.*nothing was imported") as refused:
        call_command(
            "erp_import", str(shipments), supplier="acme-supply", username="approver-shipper"
        )

    assert refused.value.returncode == 3
    assert not Shipment.objects.exists()
    assert not OutboundDocument.objects.filter(set_id="856").exists()
    [denial] = events("shipment.denied", second)
    assert denial.rule_codes == ["SOD-03"] and denial.actor == "acme-supply"
    assert events("shipment.denied", first) == []


def test_an_856_failing_our_validation_is_recorded_and_nothing_of_the_file_ships(world, tmp_path):
    first = ordered(world)
    second = ordered(world, store="S002")
    shipments = tmp_path / "ship.csv"
    shipments.write_text(
        SHIPMENT_HEADER
        + f"ASN-1,2026-11-27,{first.po_number},1,ACME-1001,24\n"
        + f"X,2026-11-27,{second.po_number},1,ACME-1001,24\n"  # BSN02 takes 2 to 30 characters
    )

    with pytest.raises(CommandError, match=r"856 failed our validation.*nothing was imported"):
        call_command("erp_import", str(shipments), supplier="acme-supply", username="shipper")

    assert not Shipment.objects.exists()
    assert set(ReplenishmentProposal.objects.values_list("status", flat=True)) == {P.ORDERED}
    [event] = events("erp_import.refused", second)
    assert event.after["document"] == "856" and event.after["unit"] == "X"
    assert any("BSN02" in e for e in event.after["errors"])
    exception = ExceptionItem.objects.get(kind="document_invalid")
    assert exception.subject == f"856 for PO {second.po_number}" and "BSN02" in exception.message


def test_an_855_failing_our_validation_is_recorded_and_nothing_of_the_file_is_confirmed(
    world, tmp_path
):
    # N104 takes 2 to 80 characters: a one-character store code cannot be sent.
    world.stores["7"] = LocationFactory(party=world.buyer.party, code="7", gln="")
    good = approved_order(world)
    bad = approved_order(world, store="7")
    confirmations = tmp_path / "confirm.csv"
    confirmations.write_text(
        "po_number,vendor_item,confirmed_quantity\n"
        f"{good.po_number},ACME-1001,24\n{bad.po_number},ACME-1001,24\n"
    )

    with pytest.raises(CommandError, match=r"855 for .* failed our validation.*nothing was"):
        call_command("erp_import", str(confirmations), supplier="acme-supply")

    assert set(ReplenishmentProposal.objects.values_list("status", flat=True)) == {P.APPROVED}
    assert not OutboundDocument.objects.exists()
    [event] = events("erp_import.refused", bad)
    assert event.after["document"] == "855" and any("N104" in e for e in event.after["errors"])
    exception = ExceptionItem.objects.get(kind="document_invalid")
    assert exception.subject == f"855 for PO {bad.po_number}"


def test_a_lapsed_approval_is_recorded_and_nothing_of_the_file_is_confirmed(world, tmp_path):
    good = approved_order(world)
    lapsed = approved_order(world, store="S002")
    ProposalLine.objects.filter(proposal=lapsed, item=world.items[0]).update(quantity=99)
    confirmations = tmp_path / "confirm.csv"
    confirmations.write_text(
        "po_number,vendor_item,confirmed_quantity\n"
        f"{good.po_number},ACME-1001,24\n{lapsed.po_number},ACME-1001,24\n"
    )

    with pytest.raises(CommandError, match=r"changed after approval.*nothing was imported"):
        call_command("erp_import", str(confirmations), supplier="acme-supply")

    assert set(ReplenishmentProposal.objects.values_list("status", flat=True)) == {P.APPROVED}
    assert not OutboundDocument.objects.exists()
    [refusal] = events("order.acknowledge.refused", lapsed)
    assert "changed after approval" in refusal.after["reason"]
    assert events("order.acknowledge.refused", good) == []


def test_a_clean_file_still_confirms_every_order(world, tmp_path):
    first = approved_order(world)
    second = approved_order(world, store="S002", quantities=(Decimal(6),))
    confirmations = tmp_path / "confirm.csv"
    confirmations.write_text(
        "po_number,vendor_item,confirmed_quantity\n"
        f"{first.po_number},ACME-1001,24\n{second.po_number},ACME-1001,6\n"
    )

    call_command("erp_import", str(confirmations), supplier="acme-supply")

    assert set(ReplenishmentProposal.objects.values_list("status", flat=True)) == {P.ORDERED}
    assert not AuditEvent.objects.filter(action="erp_import.refused").exists()
