"""Interoperability with an AS2 trading partner no one here wrote: mock-edi (PyPI) plays
the buyer. It sends an 850 over AS2 to the hub and receives the hub's 997 (and, once the
order is confirmed and shipped, its 855 and 856) over AS2; the test reads mock-edi's own
records of what it received and the findings it reports.

mock-edi speaks unsigned, unencrypted AS2 only (it refuses S/MIME by design), so its
profile in the hub is plain with an unsigned MDN."""

from __future__ import annotations

from decimal import Decimal

import pytest

from smi_core.services.audit import Actor
from smi_edi.models import As2Message, As2Profile, Interchange, OutboundDocument, TradingPartner
from smi_edi.services.as2 import as2_profile_set_certificate, as2_profile_set_private_key
from smi_edi.services.order_documents import order_acknowledge, order_ship
from tests.factories import LocationFactory
from tests.orders import approved_order, build_world
from tests.smi_edi.as2.certs import key_pair

mockedi = pytest.importorskip("mockedi.testing", reason="mock-edi is in the dev extra")

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Actor.system("test")


@pytest.fixture
def buyer_mock():
    # held: it posts nothing until the test steps it, so its answers never race the hub
    mock = mockedi.Mock.start(as2_id="DEMORETAIL", hold_delivery=True)
    yield mock
    mock.close()


def as2_profiles_for(mock, supplier: TradingPartner, buyer: TradingPartner) -> None:
    """Our supplier's station (ACMESUPPLY) and mock-edi's (DEMORETAIL): plain AS2."""
    keys = key_pair("ACMESUPPLY")
    ours = As2Profile.objects.create(partner=supplier, role="ours", as2_id="ACMESUPPLY")
    as2_profile_set_certificate(profile=ours, data=keys.cert_pem.encode(), actor=ADMIN)
    as2_profile_set_private_key(profile=ours, data=keys.key_pem.encode(), actor=ADMIN)
    As2Profile.objects.create(
        partner=buyer,
        role="partner",
        as2_id="DEMORETAIL",
        url=f"{mock.base}/as2",
        sign=False,
        encrypt=False,
        mdn_signed=False,
    )


def _documents(mock, code: str) -> list[dict]:
    return [d for d in mock.get("/_mock/documents").body if d["code"] == code]


def test_mock_edi_orders_over_as2_and_receives_997_855_856(buyer_mock, live_server, settings):
    # given an order our supplier approved for the buyer's DC, and mock-edi as that buyer,
    # buying from our supplier at the hub's /as2/
    world = build_world()
    world.stores["DEMORETAIL"] = LocationFactory(party=world.buyer.party, code="DEMORETAIL")
    order = approved_order(world, (Decimal(24),), store="DEMORETAIL")
    as2_profiles_for(buyer_mock, world.supplier, world.buyer)
    buyer_mock.post(
        "/_mock/partners",
        {"id": "ACMESUPPLY", "role": "supplier", "as2_url": f"{live_server.url}/as2/"},
    )

    # when it places its purchase order: the 850 goes over AS2, the hub answers its 997
    placed = buyer_mock.post(
        "/_mock/purchase",
        {
            "partner": "ACMESUPPLY",
            "po_number": "4500001001",
            "requested_on": "2026-12-20",
            "lines": [{"sku": "ACME-1001", "quantity": "24", "uom": "EA", "price": "2.40"}],
        },
    )
    assert placed.status == 201
    buyer_mock.step(everything=True)

    # then the hub took the 850 in over AS2, as that buyer, through the usual ingestion ...
    received = As2Message.objects.get(direction="in")
    assert (received.as2_from, received.as2_to, received.status) == (
        "DEMORETAIL",
        "ACMESUPPLY",
        "processed",
    )
    assert received.interchange.transport == Interchange.Transport.AS2
    assert received.interchange.sender == world.buyer
    order.refresh_from_db()
    assert order.po_number == "4500001001"  # the 850 (PO1 ... VP*ACME-1001) found our order
    # ... mock-edi's own record of our MDN: processed, with the MIC of what it sent
    (mdn,) = [m for m in buyer_mock.get("/_mock/mdns").body if m["direction"] == "in"]
    assert mdn["disposition"] == "automatic-action/MDN-sent-automatically; processed"
    assert mdn["mic"] == f"{received.mic}, sha256"
    # ... and our 997 reached it over AS2, was accepted with no finding, and acknowledged
    # its 850; the 997 is delivered on mock-edi's MDN
    (ack,) = _documents(buyer_mock, "997")
    assert (ack["direction"], ack["accepted"], ack["findings"]) == ("in", 1, [])
    (po,) = _documents(buyer_mock, "850")
    assert (po["ack_status"], po["ack_code"]) == ("accepted", "A")
    assert OutboundDocument.objects.get(set_id="997").status == OutboundDocument.Status.SENT

    # when our supplier confirms and ships the order (855, then 856, over AS2)
    order_acknowledge(order_id=order.pk, actor=Actor.system("test"))
    order_ship(po_number="4500001001", user=world.users["shipper"], actor=Actor.system("test"))

    # then mock-edi received both over AS2, and both are delivered on its MDNs
    for set_id in ("855", "856"):
        document = OutboundDocument.objects.get(set_id=set_id)
        assert document.status == OutboundDocument.Status.SENT, document.status_reason
        assert document.as2_messages.get().status == As2Message.Status.DELIVERED
    (response,) = _documents(buyer_mock, "855")
    (notice,) = _documents(buyer_mock, "856")
    assert response["reference"] == notice["reference"] == "4500001001"
    # mock-edi's dictionary is narrower than X12: it knows neither the VN qualifier (vendor's
    # item number, which our 855 and 856 use) nor the 856's MAN segment (the SSCC of the
    # pack). It reports exactly those, and accepts both sets; everything else it checked.
    assert response["accepted"] == notice["accepted"] == 1
    assert _narrower(response["findings"]) == ["PO1@4: VN is not a code PO106 accepts"]
    assert _narrower(notice["findings"]) == [
        "MAN@10: MAN is not a segment this transaction set defines",
        "LIN@12: VN is not a code LIN02 accepts",
    ]
    assert notice["shipment_id"]
    placed_order = buyer_mock.order("4500001001")
    (line,) = placed_order["lines"]
    assert (line["status"], line["confirmed"], line["shipped"]) == ("IA", "24", "24")
    assert placed_order["disagreements"] == []

    # and its own 997s for them come back over AS2 and are matched to what we sent
    buyer_mock.step(everything=True)
    for set_id in ("855", "856"):
        document = OutboundDocument.objects.get(set_id=set_id)
        assert document.ack_status == OutboundDocument.AckStatus.ACCEPTED_WITH_ERRORS, set_id
    inbound = As2Message.objects.filter(direction="in").order_by("pk")
    assert [m.status for m in inbound] == ["processed"] * 3


def _narrower(findings: list[str]) -> list[str]:
    """The findings, without mock-edi's summary line and its list of the codes it knows."""
    return [f.split(" (")[0] for f in findings if f != "one or more segments in error"]
