"""An 850 may name the supplier's item as VP (vendor's part number) as well as VN: mock-edi
and many buyers write PO1*...*VP*<item>. Before, only VN found the item, so such an 850
matched no approved order and opened an unmatched_850 exception."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import ExceptionItem
from smi_core.services.audit import Actor
from smi_core.services.orders import PurchaseOrderLine, order_link_850
from tests.orders import approved_order, build_world

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("qualifier", ["VN", "VP"])
def test_an_850_naming_the_vendor_part_finds_the_approved_order(qualifier):
    world = build_world()
    order = approved_order(world, (Decimal(24),))

    linked = order_link_850(
        buyer=world.buyer.party,
        supplier=world.supplier.party,
        po_number="4500001001",
        po_date=date(2026, 12, 7),
        ship_to_code="S001",
        requested_delivery=None,
        lines=[
            PurchaseOrderLine(
                line_number="1",
                quantity=Decimal(20),
                ids={qualifier: "ACME-1001"},
                requested_date=None,
            )
        ],
        actor=Actor.system("test"),
        source="test",
    )

    assert linked is not None and linked.pk == order.pk
    order.refresh_from_db()
    assert order.po_number == "4500001001"
    assert order.lines.get().ordered_quantity == Decimal(20)
    assert not ExceptionItem.objects.filter(kind="unmatched_850").exists()
