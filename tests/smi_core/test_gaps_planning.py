"""Planning under the agreement's terms: min/max in days of supply, a term's lead time, a
location's term over the item's, the agreement's effective dates, the forecast_error
exception, and query counts that do not grow with the number of item-locations."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smi_core.models import (
    AgreementTerm,
    ExceptionItem,
    ProposalLine,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.planning.policy import round_order
from smi_core.services.planning import plan_replenishment
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.pipeline import ingest, weekly_history
from tests.x12_builders import interchange, report_852

pytestmark = pytest.mark.django_db
LAST_WEEK = date(2026, 11, 22)
AS_OF = date(2026, 11, 24)
STEADY = [20, 22, 18, 21, 19, 20, 23, 17, 20, 21, 19, 20]
STEP = [10] * 6 + [50] * 6  # a level shift the smoothed forecast follows late: MASE about 3.2
Q4 = Decimal("0.0001")


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, _ = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier", with_token=False
    )
    buyer, _ = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", with_token=False
    )
    stores = {code: LocationFactory(party=buyer.party, code=code) for code in ("S001", "S002")}
    soap = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001", pack_size=Decimal(1))
    return {"supplier": supplier.party, "buyer": buyer.party, "soap": soap, **stores}


def agreement(world, code: str = "acme-demo", **fields) -> SupplyAgreement:
    values = {
        "buyer": world["buyer"],
        "supplier": world["supplier"],
        "currency": "USD",
        "service_level": Decimal("0.95"),
        "review_period_days": 7,
        "lead_time_days": Decimal(7),
        "effective_from": date(2026, 1, 1),
        **fields,
    }
    return SupplyAgreement.objects.create(code=code, **values)


def term(agreement: SupplyAgreement, item, **fields) -> AgreementTerm:
    return AgreementTerm.objects.create(
        agreement=agreement, item=item, unit_cost=fields.pop("unit_cost", Decimal("2.40")), **fields
    )


def history(s001: list[int] = STEADY, s002: list[int] = STEADY, *, on_hand=(5, 5)):
    weekly_history(
        {("ACME-1001", "S001"): s001, ("ACME-1001", "S002"): s002},
        on_hand={("ACME-1001", "S001"): on_hand[0], ("ACME-1001", "S002"): on_hand[1]},
        last_week_end=LAST_WEEK,
    )
    # what the plans triggered by ingestion left behind
    ReplenishmentProposal.objects.all().delete()
    ExceptionItem.objects.all().delete()


def line_at(store: str) -> ProposalLine | None:
    return ProposalLine.objects.filter(proposal__ship_to__code=store).first()


def days_of_supply(days: int, explanation: dict) -> Decimal:
    return (Decimal(days) * Decimal(explanation["demand_per_week"]) / 7).quantize(Q4)


# -- min/max in days of supply -------------------------------------------------------------


def test_max_days_caps_the_order_at_that_many_days_of_demand(world):
    term(agreement(world), world["soap"], max_days=Decimal(14))
    history(on_hand=(10, 10))

    plan_replenishment(as_of=AS_OF, actor="test")

    e = line_at("S001").explanation
    maximum = days_of_supply(14, e)
    assert Decimal("38") < maximum < Decimal("42")  # two weeks of about 20 a week
    assert e["maximum"] == str(maximum) and e["minimum"] is None
    assert Decimal(e["order_up_to"]) > maximum  # so the maximum is what limits the order
    assert "cut to stay within the agreed maximum" in e["rounding"][0]
    assert line_at("S001").quantity == (maximum - 10).to_integral_value(rounding="ROUND_FLOOR")


def test_a_position_above_max_days_is_excess_stock(world):
    term(agreement(world), world["soap"], max_days=Decimal(14))
    history(on_hand=(60, 10))

    plan_replenishment(as_of=AS_OF, actor="test")

    s001 = world["S001"]
    excess = ExceptionItem.objects.get(kind="excess_stock", status="open")
    assert excess.location == s001 and excess.details["inventory_position"] == "60.0000"
    assert Decimal("38") < Decimal(excess.details["maximum"]) < Decimal("42")
    assert line_at("S001") is None and line_at("S002") is not None


def test_min_days_raises_the_order_to_that_many_days_of_demand(world):
    term(agreement(world), world["soap"], min_days=Decimal(21))
    history(on_hand=(30, 30))  # above the reorder point (about 23), below three weeks (60)

    plan_replenishment(as_of=AS_OF, actor="test")

    e = line_at("S001").explanation
    minimum = days_of_supply(21, e)
    assert Decimal(e["reorder_point"]) < 30 < minimum
    assert e["minimum"] == str(minimum)
    assert line_at("S001").quantity == (minimum - 30).to_integral_value(rounding=ROUND_CEILING)
    assert any(step.startswith("raised to reach the agreed minimum") for step in e["rounding"])


def test_a_position_below_min_days_but_above_order_up_to_still_reaches_the_minimum(world):
    term(agreement(world), world["soap"], min_days=Decimal(28))
    history(on_hand=(60, 60))  # above S (about 44), below four weeks of demand (about 80)

    plan_replenishment(as_of=AS_OF, actor="test")

    line = line_at("S001")
    assert line is not None, "a position below the agreed minimum must be replenished"
    e = line.explanation
    minimum = days_of_supply(28, e)
    assert Decimal(e["order_up_to"]) < 60 < minimum
    assert line.quantity == (minimum - 60).to_integral_value(rounding=ROUND_CEILING)


def test_without_a_minimum_a_well_stocked_position_gets_nothing(world):
    term(agreement(world), world["soap"])
    history(on_hand=(60, 60))

    plan_replenishment(as_of=AS_OF, actor="test")

    assert not ProposalLine.objects.exists()


def test_round_order_reaches_the_minimum_even_when_the_raw_order_is_not_positive():
    assert round_order(Decimal(-16), position=Decimal(60), minimum=Decimal(80)).quantity == 20
    assert round_order(Decimal(0), position=Decimal(60), minimum=Decimal(50)).quantity == 0


# -- lead time and per-location terms --------------------------------------------------------


def test_a_terms_lead_time_overrides_the_agreements(world):
    deal = agreement(world)
    term(deal, world["soap"], lead_time_days=Decimal(21))
    history()

    plan_replenishment(as_of=AS_OF, actor="test")

    e = line_at("S001").explanation
    d, ss = Decimal(e["demand_per_week"]), Decimal(e["safety_stock"])
    assert deal.lead_time_days == 7 and e["lead_time_weeks"] == "3.0000"
    assert Decimal(e["reorder_point"]) == 3 * d + ss
    sigma = Decimal(e["sigma_per_week"])
    assert ss == (Decimal("1.6448536269514722") * sigma * Decimal(3).sqrt()).quantize(Q4)


def test_a_locations_term_wins_over_the_items_term(world):
    deal = agreement(world)
    item_term = term(deal, world["soap"], pack_multiple=Decimal(12))
    store_term = term(
        deal,
        world["soap"],
        location=world["S002"],
        unit_cost=Decimal("3.10"),
        pack_multiple=Decimal(5),
        lead_time_days=Decimal(14),
    )
    history()

    plan_replenishment(as_of=AS_OF, actor="test")

    s001, s002 = line_at("S001"), line_at("S002")
    assert (s001.explanation["term_id"], s002.explanation["term_id"]) == (
        item_term.pk,
        store_term.pk,
    )
    assert (s001.unit_cost, s002.unit_cost) == (Decimal("2.40"), Decimal("3.10"))
    assert (s001.explanation["pack_multiple"], s002.explanation["pack_multiple"]) == (
        "12.0000",
        "5.0000",
    )
    assert s001.quantity % 12 == 0 and s002.quantity % 5 == 0
    assert s001.explanation["lead_time_weeks"] == "1.0000"
    assert s002.explanation["lead_time_weeks"] == "2.0000"
    assert s002.proposal.value == (s002.quantity * Decimal("3.10")).quantize(Decimal("0.01"))


# -- effective dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective_from", "effective_to", "used"),
    [
        (date(2026, 1, 1), AS_OF - timedelta(days=1), False),
        (date(2026, 1, 1), AS_OF, True),
        (AS_OF, None, True),
        (AS_OF + timedelta(days=1), None, False),
    ],
    ids=["ended-yesterday", "ends-today", "starts-today", "starts-tomorrow"],
)
def test_only_an_agreement_in_force_on_the_plan_date_is_used(
    world, effective_from, effective_to, used
):
    term(agreement(world, effective_from=effective_from, effective_to=effective_to), world["soap"])
    history()

    result = plan_replenishment(as_of=AS_OF, actor="test")

    assert result.run.item_locations == (2 if used else 0)
    assert ProposalLine.objects.exists() is used


def test_the_successor_of_an_expired_agreement_is_used(world):
    old = agreement(world, "acme-2026", effective_to=AS_OF - timedelta(days=1))
    new = agreement(world, "acme-2026b", effective_from=AS_OF - timedelta(days=1))
    term(old, world["soap"], unit_cost=Decimal("2.40"))
    term(new, world["soap"], unit_cost=Decimal("2.55"))
    history()

    plan_replenishment(as_of=AS_OF, actor="test")

    assert {p.agreement.code for p in ReplenishmentProposal.objects.all()} == {"acme-2026b"}
    assert set(ProposalLine.objects.values_list("unit_cost", flat=True)) == {Decimal("2.55")}


# -- forecast error --------------------------------------------------------------------------


def test_a_forecast_with_a_high_error_raises_forecast_error(world):
    term(agreement(world), world["soap"])
    history(s001=STEP, s002=STEADY)

    plan_replenishment(as_of=AS_OF, actor="test")

    (found,) = ExceptionItem.objects.filter(kind="forecast_error", status="open")
    assert found.location == world["S001"] and found.partner == world["buyer"]
    assert found.subject == f"item {world['soap'].pk} at location {world['S001'].pk}"
    assert Decimal(found.details["mase"]) > Decimal("1.5")
    assert found.details["method"] in found.message and "above 1.5" in found.message


def test_the_forecast_error_threshold_is_a_setting(world, settings):
    settings.SMI_FORECAST_MASE_THRESHOLD = "5"
    term(agreement(world), world["soap"])
    history(s001=STEP, s002=STEADY)

    plan_replenishment(as_of=AS_OF, actor="test")

    assert not ExceptionItem.objects.filter(kind="forecast_error").exists()


def test_forecast_error_resolves_itself_when_the_condition_no_longer_holds(world, settings):
    term(agreement(world), world["soap"])
    history(s001=STEP, s002=STEADY)
    first = plan_replenishment(as_of=AS_OF, actor="test")
    settings.SMI_FORECAST_MASE_THRESHOLD = "10"

    second = plan_replenishment(as_of=AS_OF, actor="test")

    found = ExceptionItem.objects.get(kind="forecast_error")
    assert first.run.exceptions >= 1
    assert found.status == "resolved"
    assert found.resolution_note == f"condition no longer holds in plan #{second.run.pk}"


# -- set-based: the query count does not grow with the item-locations ------------------------


def buyer_with_stores(world, code: str, isa: str, stores: int, control_start: int) -> None:
    """A buyer with ``stores`` stores selling ACME-1001 and ACME-1002 (2 x stores
    item-locations) under its own agreement, with 12 weeks of 852s."""
    buyer, _ = partner_add(code=code, name=code.title(), isa=f"ZZ:{isa}", with_token=False)
    deal = agreement(world, f"acme-{code}", buyer=buyer.party)
    codes = [f"{isa[:2]}{n:03d}" for n in range(1, stores + 1)]
    for store in codes:
        LocationFactory(party=buyer.party, code=store)
    for item in ("ACME-1001", "ACME-1002"):
        term(deal, ItemFactory(supplier=world["supplier"], vendor_item=item))
    for week in range(12):
        end = LAST_WEEK - timedelta(weeks=11 - week)
        sold = "*".join(f"{s}*{STEADY[week]}" for s in codes)
        stock = "*".join(f"{s}*5" for s in codes)
        lines = [
            (f"VN*{item}", ["ZA*QS**EA", f"SDQ*EA*92*{sold}", "ZA*QA**EA", f"SDQ*EA*92*{stock}"])
            for item in ("ACME-1001", "ACME-1002")
        ]
        body = report_852(f"{end - timedelta(days=6):%Y%m%d}", f"{end:%Y%m%d}", lines=lines)
        ingest(interchange([body], sender=isa, control=control_start + week))


def plan_queries(partner: str) -> tuple[int, int]:
    ReplenishmentProposal.objects.all().delete()
    ExceptionItem.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        result = plan_replenishment(as_of=AS_OF, actor="test", partner_code=partner)
    return len(queries), result.run.item_locations


def test_planning_three_times_the_item_locations_takes_the_same_queries(world):
    buyer_with_stores(world, "small-retail", "SMALLRETAIL", stores=3, control_start=1)
    buyer_with_stores(world, "large-retail", "LARGERETAIL", stores=9, control_start=101)

    small, small_keys = plan_queries("small-retail")
    large, large_keys = plan_queries("large-retail")

    assert (small_keys, large_keys) == (6, 18)
    assert ProposalLine.objects.count() == 18  # every item-location got a line: same path
    assert large == small, f"{small} queries for 6 item-locations, {large} for 18"
