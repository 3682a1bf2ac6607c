"""The supplier's order system through the API and CSV: fetch approved orders, confirm
lines (855), report shipments (856); a supplier sees and acts on its own orders only."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from smi_core.models import ReplenishmentProposal, Shipment
from smi_core.services.audit import Actor
from smi_edi.models import OutboundDocument
from smi_edi.services.order_documents import order_acknowledge
from smi_edi.services.partners import partner_add
from tests.orders import approved_order, build_world

pytestmark = pytest.mark.django_db
P = ReplenishmentProposal.Status


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    return build_world()


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_supplier_fetches_its_approved_orders(world):
    order = approved_order(world)
    approved_order(world, approve=False)

    response = client_for(world.supplier_token).get("/api/v1/orders/?status=approved")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [o["po_number"] for o in results] == [order.po_number]
    assert results[0]["lines"][0]["approved_quantity"] == "24"


def test_another_supplier_sees_none_of_them_and_a_buyer_may_not_use_the_orders_api(world):
    order = approved_order(world)
    _, other = partner_add(code="other-supply", name="Other", isa="ZZ:OTHER", role="supplier")

    assert client_for(other).get("/api/v1/orders/").json()["results"] == []
    assert client_for(other).get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert client_for(world.buyer_token).get("/api/v1/orders/").status_code == 403
    assert APIClient().get("/api/v1/orders/").status_code in (401, 403)


def test_confirming_through_the_api_sends_the_855(world):
    order = approved_order(world)
    line = order.lines.order_by("line_number").first()

    response = client_for(world.supplier_token).post(
        f"/api/v1/orders/{order.pk}/confirm/",
        {"erp_reference": "SO-1", "lines": [{"line": line.pk, "quantity": "20"}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["order"]["status"] == "ordered"
    assert [line["ack_code"] for line in body["order"]["lines"]] == ["IQ", "IA"]
    assert body["document"]["type"] == "855" and body["document"]["status"] == "sent"


def test_confirming_twice_is_a_conflict(world):
    order = approved_order(world)
    client = client_for(world.supplier_token)
    client.post(f"/api/v1/orders/{order.pk}/confirm/", {}, format="json")

    response = client.post(f"/api/v1/orders/{order.pk}/confirm/", {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"] == "transition_refused"


def _ordered(world):
    order = approved_order(world)
    order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    return order


def test_reporting_a_shipment_sends_the_856(world):
    order = _ordered(world)

    response = client_for(world.supplier_token).post(
        "/api/v1/shipments/",
        {
            "ship_date": "2026-11-26",
            "estimated_delivery": "2026-11-28",
            "carrier_scac": "ABFS",
            "bill_of_lading": "BOL-1",
            "packs": [
                {
                    "po_number": order.po_number,
                    "lines": [{"vendor_item": "ACME-1001", "quantity": "24"}],
                },
                {
                    "po_number": order.po_number,
                    "lines": [{"vendor_item": "ACME-1002", "quantity": "6"}],
                },
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["packs"]) == 2 and body["documents"][0]["type"] == "856"
    order.refresh_from_db()
    assert order.status == P.ORDERED  # 6 of ACME-1002 still open


def test_a_shipment_of_another_suppliers_order_is_refused(world):
    order = _ordered(world)
    _, other = partner_add(code="other-supply", name="Other", isa="ZZ:OTHER", role="supplier")

    response = client_for(other).post(
        "/api/v1/shipments/",
        {
            "ship_date": "2026-11-26",
            "packs": [{"po_number": order.po_number, "lines": [{"line": 1, "quantity": "1"}]}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert "no order with PO number" in response.json()["message"]
    assert not Shipment.objects.exists()


def test_the_outbound_list_shows_the_suppliers_documents(world):
    _ordered(world)

    rows = client_for(world.supplier_token).get("/api/v1/outbound/").json()["results"]

    assert [(r["type"], r["status"], r["ack_status"]) for r in rows] == [
        ("855", "sent", "awaiting")
    ]


def test_orders_round_trip_through_csv(world, tmp_path):
    order = approved_order(world)
    export = tmp_path / "orders.csv"
    call_command("erp_export", str(export), supplier="acme-supply", stderr=io.StringIO())
    rows = list(csv.DictReader(export.open()))
    assert [(r["po_number"], r["vendor_item"], r["ordered_quantity"]) for r in rows] == [
        (order.po_number, "ACME-1001", "24"),
        (order.po_number, "ACME-1002", "12"),
    ]
    confirmations = tmp_path / "confirm.csv"
    confirmations.write_text(
        "po_number,vendor_item,confirmed_quantity,promised_date\n"
        f"{order.po_number},ACME-1001,24,\n{order.po_number},ACME-1002,10,2026-12-01\n"
    )

    out = io.StringIO()
    call_command("erp_import", str(confirmations), supplier="acme-supply", stdout=out)

    order.refresh_from_db()
    assert order.status == P.ORDERED
    assert sorted(order.lines.values_list("ack_code", flat=True)) == ["IA", "IQ"]
    shipments = tmp_path / "ship.csv"
    shipments.write_text(
        "shipment_number,ship_date,po_number,pack,vendor_item,quantity\n"
        f"ASN-1,2026-11-27,{order.po_number},1,ACME-1001,24\n"
        f"ASN-1,2026-11-27,{order.po_number},2,ACME-1002,10\n"
    )
    call_command("erp_import", str(shipments), supplier="acme-supply", stdout=out)
    order.refresh_from_db()
    assert order.status == P.SHIPPED
    assert Shipment.objects.get().shipment_number == "ASN-1"


def test_a_bad_csv_row_is_reported_by_line_and_nothing_is_applied(world, tmp_path):
    order = approved_order(world)
    confirmations = tmp_path / "confirm.csv"
    confirmations.write_text(
        "po_number,vendor_item,confirmed_quantity\n"
        f"{order.po_number},ACME-1001,24\n{order.po_number},ACME-1002,ten\n"
    )

    with pytest.raises(
        CommandError, match=re.escape("confirm.csv:3: confirmed_quantity 'ten' is not a number")
    ):
        call_command("erp_import", str(confirmations), supplier="acme-supply")

    order.refresh_from_db()
    assert order.status == P.APPROVED and not OutboundDocument.objects.exists()


def test_x12_outbox_lists_documents_with_their_x12(world):
    order = _ordered(world)
    out = io.StringIO()

    call_command("x12_outbox", "--json", "--status", "sent", stdout=out)

    rows = json.loads(out.getvalue())
    assert [(r["type"], r["po_number"], r["status"]) for r in rows] == [
        ("855", order.po_number, "sent")
    ]
    assert rows[0]["x12"].startswith("ISA*") and "BAK*00*AD*" in rows[0]["x12"]
    text = io.StringIO()
    call_command("x12_outbox", stdout=text)
    assert order.po_number in text.getvalue()


def test_order_ship_ships_every_open_line_one_pack_each(world):
    order = _ordered(world)
    out = io.StringIO()

    call_command("order_ship", order.po_number, "--as", "shipper", "--json", stdout=out)

    shipped = json.loads(out.getvalue())
    assert [p["lines"][0]["quantity"] for p in shipped["packs"]] == ["24", "12"]
    assert shipped["document"]["type"] == "856" and "HL*1**S" in shipped["document"]["x12"]
    assert Decimal(shipped["packs"][0]["lines"][0]["quantity"]) == Decimal(24)
    with pytest.raises(CommandError, match="nothing open to ship"):
        call_command("order_ship", order.po_number, "--as", "shipper")
