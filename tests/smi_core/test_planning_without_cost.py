"""An item the agreement has no cost for: planning raises item_without_cost with what to
do, and still proposes its line from what is known (the agreement's lead time)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smi_core.models import (
    AgreementTerm,
    ExceptionItem,
    Item,
    ProposalLine,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.services.planning import plan_replenishment
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import weekly_history

pytestmark = pytest.mark.django_db
STEADY = [20, 22, 18, 21, 19, 20, 23, 17, 20, 21, 19, 20]


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    LocationFactory(party=buyer.party, code="S001")
    soap = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", pack_size=Decimal(1))
    ItemFactory(supplier=supplier.party, vendor_item="ACME-1009", pack_size=Decimal(1))
    agreement = SupplyAgreement.objects.create(
        code="acme-demo",
        buyer=buyer.party,
        supplier=supplier.party,
        currency="USD",
        payment_terms_days=30,
        service_level=Decimal("0.95"),
        review_period_days=7,
        lead_time_days=Decimal(7),
        effective_from=date(2026, 1, 1),
    )
    AgreementTerm.objects.create(agreement=agreement, item=soap, unit_cost=Decimal("2.40"))
    weekly_history(
        {("ACME-1001", "S001"): STEADY, ("ACME-1009", "S001"): STEADY},
        on_hand={("ACME-1001", "S001"): 5, ("ACME-1009", "S001"): 5},
        last_week_end=date(2026, 11, 22),
    )
    ReplenishmentProposal.objects.all().delete()  # the plans the ingestion triggered
    ExceptionItem.objects.filter(kind=ExceptionItem.Kind.ITEM_WITHOUT_COST).delete()
    return agreement


def test_an_item_without_a_cost_raises_an_exception_and_still_gets_its_line(world):
    plan_replenishment(as_of=date(2026, 11, 24), actor="test")

    raised = ExceptionItem.objects.get(kind="item_without_cost", status="open")
    assert "no cost for this item" in raised.message and "acme-demo" in raised.message
    assert raised.action.startswith("Add the item's unit cost")
    line = ProposalLine.objects.get(item__vendor_item="ACME-1009")
    costed = ProposalLine.objects.get(item__vendor_item="ACME-1001")
    assert line.quantity == costed.quantity > 0  # same demand, same agreement lead time
    assert line.unit_cost == 0 and line.explanation["unit_cost_missing"] is True
    assert costed.explanation["unit_cost_missing"] is False


def test_the_exception_is_resolved_once_the_cost_is_agreed(world):
    plan_replenishment(as_of=date(2026, 11, 24), actor="test")
    item = Item.objects.get(vendor_item="ACME-1009")
    AgreementTerm.objects.create(agreement=world, item=item, unit_cost=Decimal(3))

    plan_replenishment(as_of=date(2026, 11, 24), actor="test")

    raised = ExceptionItem.objects.get(kind="item_without_cost")
    assert raised.status == "resolved"


def test_continuity_between_two_plans_uses_the_earlier_plans_forecast(world):
    from smi_core.selectors.finance import Filters, FinanceScope, continuity

    first = plan_replenishment(as_of=date(2026, 11, 23), actor="test")
    line = ProposalLine.objects.get(item__vendor_item="ACME-1001")
    plan_replenishment(as_of=date(2026, 11, 30), actor="test")  # the stored forecast's date

    result = continuity(
        scope=FinanceScope.everything(), filters=Filters(), as_of=date(2026, 11, 27)
    )

    soap = next(
        e for e in result["suppliers"]["acme-supply"]["item_locations"] if e["item"] == "ACME-1001"
    )
    assert soap["demand_source"] == f"plan run #{first.run.pk} as of 2026-11-23"
    assert soap["demand_per_week"] == line.explanation["demand_per_week"]
