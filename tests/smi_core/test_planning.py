"""Replenishment planning over real ingested 852 history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from smi_core.models import (
    AgreementTerm,
    ExceptionItem,
    PlanRun,
    ProposalLine,
    ReplenishmentProposal,
    SeriesForecast,
    Shipment,
    ShipmentLine,
    ShipmentPack,
    SupplierCapacity,
    SupplyAgreement,
)
from smi_core.services.planning import _with_our_shipments, plan_replenishment
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import weekly_history

pytestmark = pytest.mark.django_db
LAST_WEEK = date(2026, 11, 22)
AS_OF = date(2026, 11, 24)
STEADY = [20, 22, 18, 21, 19, 20, 23, 17, 20, 21, 19, 20]


@pytest.fixture
def planning_world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    for code in ("DC01", "S001", "S002"):
        LocationFactory(party=buyer.party, code=code)
    soap = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", pack_size=Decimal(12))
    towels = ItemFactory(supplier=supplier.party, vendor_item="ACME-1004", group="paper")
    agreement = SupplyAgreement.objects.create(
        code="acme-demo",
        buyer=buyer.party,
        supplier=supplier.party,
        currency="USD",
        payment_terms_days=30,
        ownership="consignment",
        service_level=Decimal("0.95"),
        review_period_days=7,
        lead_time_days=Decimal(7),
        effective_from=date(2026, 1, 1),
    )
    AgreementTerm.objects.create(
        agreement=agreement, item=soap, unit_cost=Decimal("2.40"), pack_multiple=Decimal(12)
    )
    AgreementTerm.objects.create(
        agreement=agreement, item=towels, unit_cost=Decimal("4.20"), max_quantity=Decimal(30)
    )
    return {
        "agreement": agreement,
        "soap": soap,
        "towels": towels,
        "buyer": buyer.party,
        "supplier": supplier.party,
    }


def history(on_hand_soap: int = 5, on_hand_towels: int = 5, sales=None):
    sales = sales or {
        ("ACME-1001", "S001"): STEADY,
        ("ACME-1001", "S002"): [0, 0, 3, 0, 0, 0, 2, 0, 4, 0, 0, 1],
        ("ACME-1004", "S001"): STEADY,
    }
    on_hand = {
        ("ACME-1001", "S001"): on_hand_soap,
        ("ACME-1001", "S002"): 40,
        ("ACME-1004", "S001"): on_hand_towels,
    }
    return weekly_history(sales, on_hand=on_hand, last_week_end=LAST_WEEK)


def test_a_low_position_gets_a_proposal_that_explains_every_number(planning_world):
    history()
    ReplenishmentProposal.objects.all().delete()  # the plans the ingestion triggered

    result = plan_replenishment(as_of=AS_OF, actor="test")

    line = ProposalLine.objects.get(item__vendor_item="ACME-1001", proposal__ship_to__code="S001")
    e = line.explanation
    assert e["forecast_method"] == "ses" and e["observations"] == 12
    d, sigma = Decimal(e["demand_per_week"]), Decimal(e["sigma_per_week"])
    assert Decimal("19") < d < Decimal("21")
    assert e["z"] == "1.6449" and e["lead_time_weeks"] == "1.0000"
    # SS = z sigma sqrt(L), ROP = d L + SS, S = d (R + L) + z sigma sqrt(R + L), IP = on hand
    assert Decimal(e["safety_stock"]) == (Decimal("1.6448536269514722") * sigma).quantize(
        Decimal("0.0001")
    )
    assert Decimal(e["reorder_point"]) == d + Decimal(e["safety_stock"])
    assert e["inventory_position"] == "5.0000"
    raw = Decimal(e["order_up_to"]) - 5
    assert Decimal(e["raw_quantity"]) == raw.quantize(Decimal("0.0001"))
    assert line.quantity % 12 == 0 and raw <= line.quantity < raw + 12
    assert (
        e["agreement"] == "acme-demo"
        and e["agreement_version"] == planning_world["agreement"].version
    )
    proposal = line.proposal
    assert (proposal.supplier.code, proposal.buyer.code, proposal.ship_to.code) == (
        "acme-supply",
        "demo-retail",
        "S001",
    )
    assert proposal.value == sum(x.quantity * x.unit_cost for x in proposal.lines.all()).quantize(
        Decimal("0.01")
    )
    assert result.run.item_locations == 3


def test_planning_twice_proposes_nothing_twice(planning_world):
    history()
    first = plan_replenishment(as_of=AS_OF, actor="test")
    total = ProposalLine.objects.count()

    second = plan_replenishment(as_of=AS_OF, actor="test")

    assert second.proposals == []
    assert ProposalLine.objects.count() == total
    assert first.run.pk != second.run.pk


def test_a_well_stocked_position_gets_nothing(planning_world):
    history(on_hand_soap=500)
    ReplenishmentProposal.objects.all().delete()

    plan_replenishment(as_of=AS_OF, actor="test")

    assert not ProposalLine.objects.filter(
        item__vendor_item="ACME-1001", proposal__ship_to__code="S001"
    ).exists()


def test_the_agreed_maximum_caps_the_order(planning_world):
    history(on_hand_towels=10)
    ReplenishmentProposal.objects.all().delete()

    plan_replenishment(as_of=AS_OF, actor="test")

    line = ProposalLine.objects.get(item__vendor_item="ACME-1004")
    assert line.quantity == Decimal(20)  # position 10 + 20 = the maximum 30
    assert "cut to stay within the agreed maximum 30" in line.explanation["rounding"]


def test_weekly_capacity_is_shared_and_the_shortfall_flagged(planning_world):
    SupplierCapacity.objects.create(
        supplier=planning_world["supplier"], item_group="paper", units_per_week=Decimal(20)
    )
    history(on_hand_towels=0)
    ReplenishmentProposal.objects.all().delete()

    plan_replenishment(as_of=AS_OF, actor="test")

    line = ProposalLine.objects.get(item__vendor_item="ACME-1004")
    assert line.quantity == Decimal(20)
    assert line.explanation["capacity"]["rule"].startswith("proportional")
    shortfall = ExceptionItem.objects.get(kind="capacity_shortfall", status="open")
    assert shortfall.details["capacity"] == "20" and shortfall.details["allocated"] == "20"
    assert "against a weekly capacity of 20; 20 were allocated" in shortfall.message


def test_exceptions_for_stockout_excess_and_stale_data(planning_world):
    history(on_hand_soap=0, on_hand_towels=45)

    plan_replenishment(as_of=date(2026, 12, 10), actor="test")

    open_kinds = {(e.kind, e.subject) for e in ExceptionItem.objects.filter(status="open")}
    soap, towels = planning_world["soap"], planning_world["towels"]
    s001 = planning_world["buyer"].locations.get(code="S001")
    assert ("projected_stockout", f"item {soap.pk} at location {s001.pk}") in open_kinds
    assert ("excess_stock", f"item {towels.pk} at location {s001.pk}") in open_kinds
    assert ("stale_data", f"item {soap.pk} at location {s001.pk}") in open_kinds


def test_planning_notes_read_for_people_and_details_keep_precision(planning_world):
    """Rounding steps and exception messages say 12, not 12.0000 (issue 16); the details
    a machine reads keep every decimal."""
    import re

    history(on_hand_soap=0, on_hand_towels=45)
    ReplenishmentProposal.objects.all().delete()

    plan_replenishment(as_of=date(2026, 12, 10), actor="test")

    raw = re.compile(r"\d\.\d*0\b")  # 12.0000, 30.00, 2.50: trailing zeros for people
    steps = [s for line in ProposalLine.objects.all() for s in line.explanation["rounding"]]
    assert "rounded up to whole packs of 12" in steps
    assert steps and not [s for s in steps if raw.search(s)]
    messages = {e.kind: e.message for e in ExceptionItem.objects.filter(status="open")}
    assert {"projected_stockout", "excess_stock"} <= set(messages)
    assert not [m for m in messages.values() if raw.search(m)], messages
    assert messages["excess_stock"].startswith("The inventory position 45 is above")
    excess = ExceptionItem.objects.get(kind="excess_stock", status="open")
    assert excess.details["maximum"] == "30.0000"  # machine format: full precision


def test_a_condition_that_cleared_resolves_its_exception(planning_world):
    history(on_hand_soap=0)
    plan_replenishment(as_of=date(2026, 12, 10), actor="test")
    assert ExceptionItem.objects.filter(kind="stale_data", status="open").exists()

    plan_replenishment(as_of=AS_OF, actor="test")

    assert not ExceptionItem.objects.filter(kind="stale_data", status="open").exists()
    assert (
        "condition no longer holds"
        in ExceptionItem.objects.filter(kind="stale_data").first().resolution_note
    )


def test_each_series_keeps_its_forecast_method_and_error(planning_world):
    history()

    plan_replenishment(as_of=AS_OF, actor="test")

    methods = dict(
        SeriesForecast.objects.values_list("location__code", "method").filter(
            item__vendor_item="ACME-1001"
        )
    )
    assert methods == {"S001": "ses", "S002": "sba"}
    steady = SeriesForecast.objects.get(item__vendor_item="ACME-1001", location__code="S001")
    assert steady.mase is not None and steady.observations == 12


def test_an_applied_852_plans_the_item_locations_it_changed(planning_world):
    history()

    runs = PlanRun.objects.filter(trigger="ingest")

    assert runs.count() == 12  # one per applied 852
    assert runs.first().item_locations == 3


def test_planning_is_set_based(planning_world, django_assert_max_num_queries):
    history()
    ReplenishmentProposal.objects.all().delete()

    with django_assert_max_num_queries(40):
        plan_replenishment(as_of=AS_OF, actor="test")


def test_plan_replenishment_command_prints_json(planning_world, capsys):
    history()
    ReplenishmentProposal.objects.all().delete()
    capsys.readouterr()

    call_command(
        "plan_replenishment", "--as-of", "2026-11-24", "--partner", "demo-retail", "--json"
    )

    import json

    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == "2026-11-24"
    assert out["item_locations"] == 3
    s001 = next(p for p in out["proposals"] if p["ship_to"] == "S001")
    assert {line["vendor_item"] for line in s001["lines"]} == {"ACME-1001", "ACME-1004"}
    assert all("reorder_point" in line["explanation"] for line in s001["lines"])


def test_goods_our_856_shipped_count_in_transit_until_the_buyer_receives_them(planning_world):
    history()
    plan_replenishment(as_of=AS_OF, actor="test")
    line = ProposalLine.objects.get(item__vendor_item="ACME-1001", proposal__ship_to__code="S001")
    order = line.proposal
    order.status = ReplenishmentProposal.Status.SHIPPED  # on the truck, 856 sent
    order.save(update_fields=["status"])
    shipment = Shipment.objects.create(
        shipment_number="SH-1",
        supplier=order.supplier,
        buyer=order.buyer,
        ship_to=order.ship_to,
        status=Shipment.Status.SHIPPED,
        ship_date=AS_OF,
        created_by="test",
    )
    pack = ShipmentPack.objects.create(shipment=shipment, order=order, sscc="006141410000000018")
    ShipmentLine.objects.create(pack=pack, order_line=line, quantity=line.quantity)

    again = plan_replenishment(as_of=AS_OF, actor="test")

    # Not yet in the buyer's 852 and no longer pending: counted as in transit, not reordered.
    assert not [
        p
        for p in again.proposals
        if p.ship_to.code == "S001" and p.lines.filter(item__vendor_item="ACME-1001").exists()
    ]
    reported = {"in_transit": Decimal(30)}
    assert _with_our_shipments(reported, Decimal(24))["in_transit"] == Decimal(30)  # not twice
    assert _with_our_shipments(reported, Decimal(48))["in_transit"] == Decimal(48)


def test_plan_replenishment_command_prints_for_people_with_progress(planning_world, monkeypatch):
    import io
    import re

    history()
    ReplenishmentProposal.objects.all().delete()
    monkeypatch.setenv("SMI_PROGRESS", "1")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "plan_replenishment",
        "--as-of",
        "2026-11-24",
        "--partner",
        "demo-retail",
        stdout=out,
        stderr=err,
    )

    assert "planning as of 2026-11-24" in err.getvalue()
    # the bar has a total: the item-locations planned of how many, then saving
    total = PlanRun.objects.latest("pk").item_locations
    assert total > 0 and f"{total}/{total}" in err.getvalue(), err.getvalue()
    assert "saving as of 2026-11-24" in err.getvalue()
    text = out.getvalue()
    assert re.search(r"line\(s\), [A-Z]{3} \d{1,3}(,\d{3})*\.\d{2}\n", text), text
    item_lines = [line for line in text.splitlines() if line.startswith("    ACME-")]
    assert item_lines and "reorder point" in item_lines[0]
    assert not any(re.search(r"\d\.\d*0\b", line) for line in item_lines)  # 5, not 5.0000
