"""Finance figures at any date, from the point-in-time stock ledger: DESIGN.md's worked
example, levels carried forward, stale partners flagged and still counted, DIO over the
days covered, and a replay of several partners reporting on different weekdays checked at
several dates against a brute-force computation over the raw activity rows."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from smi_core.finance.formulas import money, ratio
from smi_core.models import AgreementTerm, ProductActivity, StockLevel, SupplyAgreement
from smi_core.selectors.finance import (
    Filters,
    FinanceScope,
    continuity,
    service_report,
    turnover_report,
    valuation,
    working_capital,
)
from smi_core.selectors.reporting_date import reporting_day
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory
from tests.finance_world import week

pytestmark = pytest.mark.django_db
D = Decimal
EVERYTHING = FinanceScope.everything()
ALL = Filters()


def _world(settings, tmp_path, buyers=("north",), currencies=None):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"
    settings.SMI_REPORTING_CURRENCY = "USD"
    supplier, _ = partner_add(code="acme", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier")
    x = ItemFactory(supplier=supplier.party, vendor_item="X", gtin="")
    y = ItemFactory(supplier=supplier.party, vendor_item="Y", gtin="")
    for code in buyers:
        buyer, _ = partner_add(code=code, name=code.title(), isa=f"ZZ:{code.upper()}")
        LocationFactory(party=buyer.party, code="S1")
        agreement = SupplyAgreement.objects.create(
            code=f"acme-{code}",
            buyer=buyer.party,
            supplier=supplier.party,
            currency=(currencies or {}).get(code, "USD"),
            ownership=SupplyAgreement.Ownership.BUYER_ON_RECEIPT,
            payment_terms_days=30,
            effective_from=date(2027, 1, 1),
        )
        AgreementTerm.objects.create(
            agreement=agreement, item=x, unit_cost=D(4), net_selling_price=D(5)
        )
        AgreementTerm.objects.create(
            agreement=agreement, item=y, unit_cost=D(3), net_selling_price=D(4)
        )
    return {"x": x, "y": y}


_control = iter(range(1000, 100000))


def _report(buyer: str, end: date, lines: dict[str, list[str]]) -> None:
    start = end - timedelta(days=6)
    week(
        buyer.upper(),
        f"{start:%Y%m%d}",
        f"{end:%Y%m%d}",
        "S1",
        [(f"VN*{item}", segments) for item, segments in lines.items()],
        control=next(_control),
    )


@pytest.fixture
def example(settings, tmp_path):
    """DESIGN.md "Figures at a date": weeks ending 03-07 and 03-14; X cost 4.00 with 200
    then 150 on hand and 50 sold each week; Y cost 3.00 with 40 on hand, none sold."""
    world = _world(settings, tmp_path)
    _report(
        "north",
        date(2027, 3, 7),
        {"X": ["ZA*QA*200*EA", "ZA*QS*50*EA"], "Y": ["ZA*QA*40*EA", "ZA*QS*0*EA"]},
    )
    _report(
        "north",
        date(2027, 3, 14),
        {"X": ["ZA*QA*150*EA", "ZA*QS*50*EA"], "Y": ["ZA*QA*40*EA", "ZA*QS*0*EA"]},
    )
    return world


def test_the_design_example_values_stock_at_each_date_not_todays(example):
    at_8 = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 8))
    at_15 = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 15))

    # 03-08: 200 x 4.00 + 40 x 3.00 = 920.00; 03-15: 150 x 4.00 + 40 x 3.00 = 720.00.
    assert at_8["total"]["value_historical"] == "920.00"
    assert at_15["total"]["value_historical"] == "720.00"
    # Before the first report there is no stock to value.
    assert valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 6))["rows"] == []


def test_the_design_example_dio_is_over_the_14_days_covered_not_the_window(example):
    # A 28-day window (02-15 .. 03-14) of which the two weekly reports cover 14 days.
    result = turnover_report(
        scope=EVERYTHING, filters=ALL, start=date(2027, 2, 15), end=date(2027, 3, 14)
    )

    overall = result["overall"]
    # Average inventory (920 + 720) / 2 = 820.00; COGS 2 x 50 x 4.00 = 400.00;
    # DIO = 820.00 / 400.00 x 14 = 28.70 days (the calendar 28 would say 57.40).
    assert (overall["average_inventory"], overall["cogs"]) == ("820.00", "400.00")
    assert overall["dio_days"] == "28.7000"
    assert (overall["days_covered"], overall["calendar_days"]) == ("14.0000", 28)
    # Turnover 400 / 820 = 0.4878 over the period; x 365 / 14 = 12.7178 a year.
    assert overall["turnover"] == "0.4878"
    assert overall["turnover_annualised"] == "12.7178"
    # Weeks of supply: 190 units at the end / (100 sold over 2 weeks) = 3.8 weeks.
    assert overall["weeks_of_supply"] == "3.8000"


def test_working_capital_annualises_cogs_over_the_days_covered(example):
    result = working_capital(
        scope=EVERYTHING,
        filters=ALL,
        start=date(2027, 2, 15),
        end=date(2027, 3, 14),
        baseline_start=date(2027, 1, 18),
        baseline_end=date(2027, 2, 14),
        carrying_rate=D("0.2"),
    )

    # Current COGS 400.00 over 14 days covered: 400 x 365 / 14 = 10,428.57 a year (the
    # 28-day window would halve it). The baseline has no data, so nothing is released.
    assert result["current_dio"] == "28.7000"
    assert result["released"] is None
    report = turnover_report(
        scope=EVERYTHING, filters=ALL, start=date(2027, 2, 15), end=date(2027, 3, 14)
    )
    assert money(D(report["overall"]["cogs"]) * 365 / D(report["overall"]["days_covered"])) == (
        D("10428.57")
    )


def test_working_capital_states_the_days_its_annual_cogs_uses(example):
    _report(
        "north",
        date(2027, 3, 21),
        {"X": ["ZA*QA*100*EA", "ZA*QS*50*EA"], "Y": ["ZA*QA*40*EA", "ZA*QS*0*EA"]},
    )
    result = working_capital(
        scope=EVERYTHING,
        filters=ALL,
        start=date(2027, 3, 8),
        end=date(2027, 3, 28),  # 21 calendar days; one week of data (to 03-21)... and 03-14
        baseline_start=date(2027, 3, 1),
        baseline_end=date(2027, 3, 7),
        carrying_rate=D("0.2"),
    )

    # Current: weeks to 03-14 and 03-21 (14 days), COGS 400, inventory 720 and 520 ->
    # average 620, DIO 620 / 400 x 14 = 21.70. Baseline: week to 03-07, COGS 200,
    # inventory 920, DIO 920 / 200 x 7 = 32.20. Annual COGS 400 x 365 / 14 = 10,428.57;
    # released (32.20 - 21.70) x 10,428.57 / 365 = 300.00.
    assert (result["baseline_dio"], result["current_dio"]) == ("32.2000", "21.7000")
    assert (result["days_covered"], result["annual_cogs"]) == ("14.0000", "10428.57")
    assert result["released"] == "300.00"


def test_a_level_not_stated_is_carried_forward_from_the_last_report(example, settings):
    # Week to 03-21 states only sales of X: its 150 on hand carries forward.
    _report("north", date(2027, 3, 21), {"X": ["ZA*QS*30*EA"]})

    at_22 = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 22))
    ledger = StockLevel.objects.get(item=example["x"], period_end=date(2027, 3, 21))

    assert (ledger.on_hand, ledger.sold) == (D(150), D(30))
    assert at_22["total"]["value_historical"] == "720.00"  # 150 x 4 + 40 x 3


def test_a_partner_late_with_its_report_is_stale_and_still_counted(settings, tmp_path):
    _world(settings, tmp_path, buyers=("north", "south"))
    _report("north", date(2027, 3, 7), {"X": ["ZA*QA*100*EA"]})
    _report("south", date(2027, 3, 3), {"X": ["ZA*QA*50*EA"]})
    _report("north", date(2027, 3, 14), {"X": ["ZA*QA*90*EA"]})

    result = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 14))

    # South last reported the week to 03-03: 11 days old, past 7 + 3 (weekly + grace).
    # Its 50 on hand still count: 90 x 4 + 50 x 4 = 560.00, not 360.00.
    assert result["total"]["value_historical"] == "560.00"
    ages = {a["partner"]: a for a in result["data_age"]}
    assert (ages["south"]["age_days"], ages["south"]["stale"]) == (11, True)
    assert (ages["north"]["age_days"], ages["north"]["stale"]) == (0, False)
    assert result["stale_partners"] == ["south"]


def test_the_grace_period_is_a_setting(settings, tmp_path):
    _world(settings, tmp_path, buyers=("south",))
    _report("south", date(2027, 3, 3), {"X": ["ZA*QA*50*EA"]})
    settings.SMI_STALE_GRACE_DAYS = 7

    result = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 14))

    assert result["stale_partners"] == []  # 11 days <= 7 + 7


def test_the_ledger_rebuilt_from_activity_equals_the_one_the_apply_wrote(example):
    _report("north", date(2027, 3, 21), {"X": ["ZA*QS*30*EA", "ZA*QP*20*EA"]})
    columns = ("item_id", "period_end", "on_hand", "on_order", "sold", "received")
    written = list(StockLevel.objects.order_by("item_id", "period_end").values_list(*columns))

    out = io.StringIO()
    call_command("stock_ledger_rebuild", stdout=out)

    rebuilt = list(StockLevel.objects.order_by("item_id", "period_end").values_list(*columns))
    assert rebuilt == written
    assert "5 ledger row(s) rebuilt from the activity of 3 set(s)" in out.getvalue()


# -- replay: several partners on different weekdays, against the raw activity rows -------


REPLAY_BUYERS = {  # buyer: the weekday its weeks end (Sunday, Wednesday, Friday)
    "north": date(2027, 1, 3),
    "south": date(2027, 1, 6),
    "west": date(2027, 1, 8),
}


# Reports that arrive late, after every other week (in this order): west's week 3 (its
# week 4 states only sales, so carries week 3's stock forward), north's week 2, south's
# week 5 (the week after a missing one), west's week 0 (its first report).
LATE = [("west", 3), ("north", 2), ("south", 5), ("west", 0)]


@pytest.fixture(params=["in-order", "late-reports"])
def replay(request, settings, tmp_path):
    world = _world(settings, tmp_path, buyers=tuple(REPLAY_BUYERS))
    held = {}
    for b, (buyer, first_end) in enumerate(REPLAY_BUYERS.items()):
        for w in range(8):
            if buyer == "south" and w in (3, 7):
                continue  # south misses two weeks (one at the end: stale at the last dates)
            end = first_end + timedelta(weeks=w)
            on_hand_x = (120 - 17 * w + 11 * b) if w != 5 else -5  # QA -5 happens
            sold_x = 10 + 3 * w + b
            lines = {"X": [f"ZA*QS*{sold_x}*EA"]}
            if not (buyer == "west" and w == 4):  # a week stating only sales
                lines["X"].append(f"ZA*QA*{on_hand_x}*EA")
            lines["Y"] = [f"ZA*QA*{40 + b + w % 3}*EA", f"ZA*QS*{w % 2}*EA"]
            if request.param == "late-reports" and (buyer, w) in LATE:
                held[(buyer, w)] = (end, lines)
                continue
            _report(buyer, end, lines)
    for key in LATE:
        if key in held:
            _report(key[0], *held[key])
    return world


COST = {"X": D(4), "Y": D(3)}


def _brute_force(as_of: date, start: date):
    """From the raw activity rows alone: each item-location's on hand at every period end
    (the last QA on or before it), sales per period ending in [start, as_of], and from
    those the valuation, COGS, average inventory and DIO over the days covered."""
    rows = ProductActivity.objects.filter(period_end__lte=as_of).select_related(
        "item", "location__party"
    )
    qa: dict = defaultdict(list)
    qs: dict = defaultdict(lambda: defaultdict(lambda: D(0)))
    periods: dict = defaultdict(set)
    for a in rows:
        key = (a.item.vendor_item, a.location.party.code)
        periods[key].add((a.period_start, a.period_end))
        if a.activity_code == "QA":
            qa[key].append((a.period_end, a.quantity))
        elif a.activity_code == "QS":
            qs[key][a.period_end] += a.quantity

    def on_hand_at(key, day):
        stated = [q for end, q in sorted(qa[key]) if end <= day]
        return stated[-1] if stated else None

    value = cogs = average = per_day = D(0)
    stockouts = 0
    for key in periods:
        cost = COST[key[0]]
        now = on_hand_at(key, as_of)
        value += max(now or D(0), D(0)) * cost
        inside = sorted(p for p in periods[key] if start <= p[1] <= as_of)
        if not inside:
            continue
        days = sum((end - begin).days + 1 for begin, end in inside)
        sold = sum((qs[key][end] for _, end in inside), D(0))
        cogs += sold * cost
        per_day += sold * cost / days
        levels = [on_hand_at(key, end) for _, end in inside]
        known = [max(q, D(0)) * cost for q in levels if q is not None]
        average += sum(known, D(0)) / len(known) if known else D(0)
        stockouts += sum(1 for q in levels if q is not None and q <= 0)
    return {
        "value": money(value),
        "cogs": money(cogs),
        "average": money(average),
        "dio": ratio(money(average) / per_day) if per_day else None,
        "stockouts": stockouts,
    }


@pytest.mark.parametrize(
    "as_of",
    [date(2027, 1, 5), date(2027, 1, 20), date(2027, 2, 1), date(2027, 2, 17), date(2027, 3, 1)],
    ids=["first-week", "week-3", "week-5", "last-reports", "two-weeks-after"],
)
def test_every_figure_at_a_date_matches_the_raw_activity_rows(replay, as_of):
    start = as_of - timedelta(days=27)
    expected = _brute_force(as_of, start)

    value = valuation(scope=EVERYTHING, filters=ALL, as_of=as_of)
    turnover = turnover_report(scope=EVERYTHING, filters=ALL, start=start, end=as_of)
    service = service_report(scope=EVERYTHING, filters=ALL, start=start, end=as_of)

    assert D(value["total"]["value_historical"]) == expected["value"]
    overall = turnover["overall"]
    assert D(overall["cogs"]) == expected["cogs"]
    assert D(overall["average_inventory"]) == expected["average"]
    assert overall["dio_days"] == (None if expected["dio"] is None else str(expected["dio"]))
    assert service["overall"]["stockouts"] == expected["stockouts"]


def test_working_capital_costing_once_gives_both_periods_turnover_figures(replay):
    end, start = date(2027, 2, 28), date(2027, 2, 1)
    base_end, base_start = date(2027, 1, 31), date(2027, 1, 4)

    result = working_capital(
        scope=EVERYTHING, filters=ALL, start=start, end=end,
        baseline_start=base_start, baseline_end=base_end, carrying_rate=D("0.2"),
    )  # fmt: skip

    current = turnover_report(scope=EVERYTHING, filters=ALL, start=start, end=end)["overall"]
    baseline = turnover_report(
        scope=EVERYTHING, filters=ALL, start=base_start, end=base_end, as_of=end
    )["overall"]
    assert (result["current_dio"], result["baseline_dio"]) == (
        current["dio_days"],
        baseline["dio_days"],
    )
    annual = money(D(current["cogs"]) * 365 / D(current["days_covered"]))
    assert result["annual_cogs"] == str(annual) and result["released"] is not None


def test_the_ledger_after_late_reports_equals_the_one_rebuilt_from_activity(replay):
    columns = (
        "item_id", "location_id", "period_end", "on_hand", "on_order", "sold",
        "last_received", "first_reported",
    )  # fmt: skip
    written = list(StockLevel.objects.order_by(*columns[:3]).values_list(*columns))

    call_command("stock_ledger_rebuild", stdout=io.StringIO())

    assert list(StockLevel.objects.order_by(*columns[:3]).values_list(*columns)) == written


def test_the_replay_states_how_old_each_partners_data_is(replay):
    # South's last report is the week to 2027-02-17 (its 8th week is missing): at 03-01
    # 12 days old, stale; north's (02-21) 8 days, west's (02-26) 3 days.
    result = continuity(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 1))

    ages = {a["partner"]: (a["last_report"], a["age_days"], a["stale"]) for a in result["data_age"]}
    assert ages == {
        "north": ("2027-02-21", 8, False),
        "south": ("2027-02-17", 12, True),
        "west": ("2027-02-26", 3, False),
    }


# -- negative on hand, items without a cost ----------------------------------------------


def test_negative_on_hand_is_valued_at_zero_with_the_raw_figure_listed(example):
    _report("north", date(2027, 3, 21), {"X": ["ZA*QA*-5*EA", "ZA*QS*50*EA"]})
    as_of = date(2027, 3, 22)

    result = valuation(scope=EVERYTHING, filters=ALL, as_of=as_of)
    cover = continuity(scope=EVERYTHING, filters=ALL, as_of=as_of)

    # X: -5 on hand counts as 0 (not -20.00); Y: 40 x 3.00 = 120.00.
    assert result["total"]["value_historical"] == "120.00"
    assert [
        (n["item"], n["on_hand"], n["valued_quantity"]) for n in result["negative_on_hand"]
    ] == [("X", "-5.0000", "0")]
    x = next(e for e in cover["suppliers"]["acme"]["item_locations"] if e["item"] == "X")
    assert (x["stock"], x["days_of_cover"]) == ("0", "0.0000")  # never negative


def test_an_item_without_a_cost_is_listed_where_it_is_left_out(example):
    z = ItemFactory(supplier=example["x"].supplier, vendor_item="Z", gtin="")
    assert not AgreementTerm.objects.filter(item=z).exists()
    _report("north", date(2027, 3, 21), {"Z": ["ZA*QA*70*EA", "ZA*QS*12*EA"]})

    value = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 21))
    turnover = turnover_report(
        scope=EVERYTHING, filters=ALL, start=date(2027, 3, 15), end=date(2027, 3, 21)
    )

    assert [(m["item"], m["quantity"]) for m in value["positions_without_cost"]] == [
        ("Z", "70.0000")
    ]
    assert [(m["item"], m["units_sold"], m["on_hand"]) for m in turnover["left_out_no_cost"]] == [
        ("Z", "12.0000", "70.0000")
    ]


# -- FX: old rates warned, the seller's remeasurement sign -------------------------------


@pytest.fixture
def finance_world(settings, tmp_path):
    from tests.finance_world import build_finance_world

    return build_finance_world(settings, tmp_path)


def test_a_rate_older_than_seven_days_is_used_with_a_warning(finance_world):
    eur = Filters(currency="EUR")
    fresh = valuation(scope=EVERYTHING, filters=eur, as_of=date(2026, 11, 25))
    old = valuation(scope=EVERYTHING, filters=eur, as_of=date(2026, 12, 15))

    # The last EUR/USD rate is of 2026-11-20: 5 days old on 11-25, 25 days on 12-15.
    assert fresh["rate_warnings"] == []
    assert [(w["pair"], w["rate_date"], w["age_days"]) for w in old["rate_warnings"]] == [
        ("EUR/USD", "2026-11-20", 25)
    ]
    assert old["rows"][0]["value_closing"] == "12000.00"  # still converted, at that rate


def test_the_rate_age_limit_is_a_setting(finance_world, settings):
    settings.SMI_FX_MAX_AGE_DAYS = 30

    old = valuation(scope=EVERYTHING, filters=Filters(currency="EUR"), as_of=date(2026, 12, 15))

    assert old["rate_warnings"] == []


def test_an_open_invoice_is_a_loss_for_the_buyer_and_a_gain_for_the_seller(finance_world):
    from smi_core.services.audit import Actor
    from smi_edi.services.order_documents import order_ship
    from tests.orders import person
    from tests.smi_core.test_finance import _eur_order

    order = _eur_order(finance_world, quantity=D(1000))
    shipper = person("shipper", "shipper")
    order_ship(
        po_number=order.po_number,
        user=shipper,
        actor=Actor.user(shipper),
        ship_date=date(2026, 10, 2),
    )

    result = fx_adjustments_at(date(2026, 11, 25))

    # EUR 10,000 booked at 1.10 = USD 11,000, remeasured at 1.20 = USD 12,000. The buyer
    # owes more dollars: a loss of 1,000. The seller is owed more dollars: a gain of 1,000.
    invoice = result["invoices"][0]
    assert (invoice["buyer_fx_gain_loss"], invoice["seller_fx_gain_loss"]) == (
        "-1000.00",
        "1000.00",
    )
    assert result["seller_fx_gain_loss_total"] == "1000.00"


def fx_adjustments_at(as_of: date) -> dict:
    from smi_core.selectors.finance import fx_adjustments

    return fx_adjustments(scope=EVERYTHING, filters=ALL, as_of=as_of)


# -- cash: what is owed for consigned goods already sold ----------------------------------


def test_cash_out_includes_consigned_goods_sold_and_not_yet_paid(finance_world):
    from smi_core.selectors.finance import cash_forecast
    from smi_core.selectors.finance.cashflow import amounts_owed

    as_of = date(2026, 11, 25)
    retail = Filters(buyer="demo-retail")

    cash = cash_forecast(scope=EVERYTHING, filters=retail, as_of=as_of, weeks=4)
    owed = amounts_owed(scope=EVERYTHING, filters=retail, as_of=as_of)

    # SOAP at 2.00, paid 14 days after the week: sold 10 to 11-15 (due 11-29) and 20 to
    # 11-22 (due 12-06); the 20 sold to 11-08 fell due on 11-22 and is taken as paid.
    consumed = [
        (i["amount"], i["due"], i["week"]) for i in cash["items"] if i["kind"] == "consumed"
    ]
    assert consumed == [("20.00", "2026-11-29", 0), ("40.00", "2026-12-06", 1)]
    assert owed["rows"][0]["consignment"] == "60.00"
    assert sum(D(a) for a, _, _ in consumed) == D(owed["rows"][0]["consignment"])


# -- NRV and GMROI without a selling price -----------------------------------------------


def test_without_a_selling_price_nrv_is_not_tested_and_gmroi_says_why(example):
    AgreementTerm.objects.filter(item=example["y"]).update(net_selling_price=None)

    value = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 15), group_by=("item",))
    turnover = turnover_report(
        scope=EVERYTHING, filters=ALL, start=date(2027, 3, 1), end=date(2027, 3, 14)
    )

    status = {r["item"]: (r["nrv_status"], r["write_down"]) for r in value["rows"]}
    # X: NRV 150 x 5.00 = 750 >= cost 600, tested and no write-down; Y: no price, so its
    # 0.00 write-down is not a pass.
    assert status == {
        "X": ("tested", "0.00"),
        "Y": ("not tested (no selling price)", "0.00"),
    }
    # the headline total says so too: its 0.00 covers only what was tested
    assert value["total"]["nrv_status"] == (
        "tested for 1 of 2 positions; not tested (no selling price) for the rest"
    )
    overall = turnover["overall"]
    assert overall["gmroi"] is None
    assert overall["gmroi_reason"] == "no net selling price for Y in the terms"
    # Sales fall back to cost when an item sold has no price.
    assert turnover["suppliers"]["acme"]["sales_basis"] == "cost (COGS)"


# -- demo_load: planned and reported as of its latest data --------------------------------


def test_demo_load_plans_and_reports_as_of_its_latest_data(settings, tmp_path, capsys):
    from smi_core.models import ExceptionItem

    settings.VAR_DIR = tmp_path
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    settings.SMI_OUTBOX_DIR = tmp_path / "outbox"

    call_command("demo_load")
    out = capsys.readouterr().out

    # The samples' last weeks end on 2026-11-22: as of that date no partner is stale, so
    # the first screen carries no stale-data exceptions and no stale flags.
    assert "planned as of 2026-11-22, the date of the latest 852 data" in out
    assert "reporting date set to 2026-11-22: /finance/, the API, `finance_report`" in out
    assert reporting_day().as_of == date(2026, 11, 22)  # what /finance/ opens as of
    stale = ExceptionItem.objects.filter(
        kind=ExceptionItem.Kind.STALE_DATA, status=ExceptionItem.Status.OPEN
    )
    assert stale.count() == 0
    figures = valuation(scope=EVERYTHING, filters=ALL, as_of=date(2026, 11, 22))
    assert figures["stale_partners"] == []
    assert {a["partner"] for a in figures["data_age"]} == {
        "acme-stores-eu",
        "city-mart",
        "demo-retail",
    }


def test_finance_report_states_each_partners_data_age_and_the_stale_ones(settings, tmp_path):
    _world(settings, tmp_path, buyers=("north", "south"))
    _report("north", date(2027, 3, 14), {"X": ["ZA*QA*90*EA"]})
    _report("south", date(2027, 3, 3), {"X": ["ZA*QA*50*EA"]})
    out = io.StringIO()

    call_command("finance_report", "--as-of", "2027-03-14", "--figure", "valuation", stdout=out)

    text = out.getvalue()
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    # Partner, last stock report, age (days), stale after (days), stale.
    assert rows["north"] == ["2027-03-14", "0", "10", "no"]
    assert rows["south"] == ["2027-03-03", "11", "10", "STALE"]
    assert "! stale: south (last report older than cadence + grace" in text


# -- how a set's figures become a ledger row ---------------------------------------------


def test_the_ledger_takes_the_newest_dated_level_and_sums_sales_like_the_positions(example):
    # One report states X on hand twice (the later ZA dated earlier) and on order twice
    # without dates (the last one wins), and its sales in two ZA groups.
    _report(
        "north",
        date(2027, 3, 21),
        {
            "X": [
                "ZA*QA**EA*007*20270320",
                "SDQ*EA*92*S1*110",
                "ZA*QA**EA*007*20270316",
                "SDQ*EA*92*S1*120",
                "ZA*QP**EA",
                "SDQ*EA*92*S1*3",
                "ZA*QP**EA",
                "SDQ*EA*92*S1*4",
                "ZA*QS**EA",
                "SDQ*EA*92*S1*5",
                "ZA*QS**EA",
                "SDQ*EA*92*S1*6",
            ]
        },
    )

    row = StockLevel.objects.get(item=example["x"], period_end=date(2027, 3, 21))

    assert (row.on_hand, row.on_order, row.sold) == (D(110), D(4), D(11))


def test_a_second_report_for_a_period_replaces_what_it_states_and_keeps_the_rest(example):
    # A correction for the week to 03-14 states only X's sales.
    _report("north", date(2027, 3, 14), {"X": ["ZA*QS*45*EA"]})

    row = StockLevel.objects.get(item=example["x"], period_end=date(2027, 3, 14))
    turnover = turnover_report(
        scope=EVERYTHING, filters=ALL, start=date(2027, 3, 1), end=date(2027, 3, 14)
    )

    assert (row.on_hand, row.sold) == (D(150), D(45))
    assert turnover["overall"]["cogs"] == "380.00"  # (50 + 45) x 4.00, not 400.00


def test_consigned_stock_without_a_cost_is_listed_by_cash_out_and_owed(finance_world):
    from smi_core.selectors.finance import cash_forecast
    from smi_core.selectors.finance.cashflow import amounts_owed

    AgreementTerm.objects.filter(item=finance_world["soap"]).delete()
    retail = Filters(buyer="demo-retail")

    cash = cash_forecast(scope=EVERYTHING, filters=retail, as_of=date(2026, 11, 25), weeks=4)
    owed = amounts_owed(scope=EVERYTHING, filters=retail, as_of=date(2026, 11, 25))

    # SOAP has no unit cost now: nothing to pay can be computed, and both figures say so
    # with the stock (100 on hand) and the last week's sales (20) they leave out.
    for figure in (cash, owed):
        assert [
            (m["item"], m["on_hand"], m["sold_last_period"]) for m in figure["left_out_no_cost"]
        ] == [("SOAP", "100.0000", "20.0000")]
    assert cash["total_reporting"] == "0.00"


def test_the_ingest_bench_empties_the_stock_ledger_with_the_activity(example, require_postgres):
    import importlib.util
    from pathlib import Path

    from django.db import connection

    path = Path(__file__).resolve().parents[2] / "bench" / "ingest_852.py"
    spec = importlib.util.spec_from_file_location("bench_ingest_852", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert StockLevel.objects.count() == 4
    with connection.cursor() as cursor:  # the test's transaction defers its FK checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    bench.clean_slate()

    assert (ProductActivity.objects.count(), StockLevel.objects.count()) == (0, 0)


def test_continuity_at_a_past_date_uses_no_forecast_made_after_it(example):
    from smi_core.models import SeriesForecast
    from smi_core.selectors.finance.performance import continuity as continuity_at

    x, location = example["x"], StockLevel.objects.filter(item=example["x"]).first().location
    SeriesForecast.objects.create(
        item=x, location=location, method="ses", classification="smooth",
        demand_per_week=D(70), sigma_per_week=D(5), observations=2, as_of=date(2027, 3, 14),
    )  # fmt: skip

    def cover(as_of):
        entries = continuity_at(scope=EVERYTHING, filters=ALL, as_of=as_of)["suppliers"]["acme"]
        return next(
            (e["days_of_cover"], e["demand_source"])
            for e in entries["item_locations"]
            if e["item"] == "X"
        )

    # 03-10: the forecast is made on 03-14, after the date: last period's 50 sold, 200 on hand.
    assert cover(date(2027, 3, 10)) == (
        "28.0000",
        "last period's sales (no forecast made on or before the date)",
    )
    # 03-15: the forecast of 70 a week was made by then; 150 on hand.
    assert cover(date(2027, 3, 15)) == ("15.0000", "forecast as of 2027-03-14")


# -- the window's sums: one grouped query on PostgreSQL, Python elsewhere, same Decimals ---


FX_BUYERS = {"north": date(2027, 1, 3), "euro": date(2027, 1, 6)}  # Sunday, Wednesday
# EUR/USD by date: weekly with a gap (02-03 and 02-10 use the rate of 01-27), one rate with
# eight places, none after 02-17 (03-03 uses a rate two weeks old: a warning).
FX_RATES = {
    date(2027, 1, 1): D("1.0800"),
    date(2027, 1, 13): D("1.0913"),
    date(2027, 1, 20): D("1.10254321"),
    date(2027, 1, 27): D("1.1200"),
    date(2027, 2, 17): D("1.0750"),
}


@pytest.fixture
def fx_replay(settings, tmp_path):
    """A USD buyer and an EUR buyer, eight weeks each on different weekdays: X and Y with a
    cost (Y's selling price removed for the EUR buyer), Z with none; negative and
    unstated on-hand levels, weeks that sell nothing."""
    from smi_core.models import ExchangeRate

    world = _world(settings, tmp_path, buyers=tuple(FX_BUYERS), currencies={"euro": "EUR"})
    AgreementTerm.objects.filter(agreement__code="acme-euro", item=world["y"]).update(
        net_selling_price=None
    )
    ItemFactory(supplier=world["x"].supplier, vendor_item="Z", gtin="")
    for day, rate in FX_RATES.items():
        ExchangeRate.objects.create(currency="EUR", quote="USD", date=day, rate=rate)
    for b, (buyer, first_end) in enumerate(FX_BUYERS.items()):
        for w in range(8):
            lines = {
                "X": [f"ZA*QS*{(7 * w + 3 * b) % 11}*EA"],  # 0 sold in some weeks
                "Y": [f"ZA*QA*{37 + 5 * b - 4 * w}*EA", f"ZA*QS*{w % 3}.5*EA"],
                "Z": [f"ZA*QA*{20 + w}*EA", f"ZA*QS*{w % 4}*EA"],
            }
            if w != 3:  # week 3 states no on-hand level for X: carried forward
                lines["X"].append(f"ZA*QA*{(90 - 13 * w + b) if w != 6 else -4}*EA")
            _report(buyer, first_end + timedelta(weeks=w), lines)
    return world


def _rate_on(day: date) -> D:
    return FX_RATES[max(d for d in FX_RATES if d <= day)]


def _fx_brute_force(start: date, end: date) -> dict:
    """From the raw activity rows and the rate table alone: COGS, average inventory, DIO
    (over each item-location's own days) and the inventory at each period end, in USD at
    the rate on each period's last day."""
    cost = {(a.buyer.code, t.item.vendor_item): (t.unit_cost, a.currency)
            for a in SupplyAgreement.objects.all() for t in a.terms.all()}  # fmt: skip
    rows = ProductActivity.objects.filter(period_end__lte=end).select_related(
        "item", "location__party"
    )
    qa: dict = defaultdict(list)
    qs: dict = defaultdict(lambda: defaultdict(lambda: D(0)))
    periods: dict = defaultdict(set)
    for a in rows:
        key = (a.location.party.code, a.item.vendor_item)
        periods[key].add((a.period_start, a.period_end))
        if a.activity_code == "QA":
            qa[key].append((a.period_end, a.quantity))
        elif a.activity_code == "QS":
            qs[key][a.period_end] += a.quantity
    cogs = average = per_day = D(0)
    by_period: dict = defaultdict(lambda: D(0))
    for key in periods:
        if key not in cost:
            continue  # Z: no cost, left out
        unit_cost, currency = cost[key]
        inside = sorted(p for p in periods[key] if start <= p[1] <= end)
        if not inside:
            continue

        def rate(day, currency=currency):
            return D(1) if currency == "USD" else _rate_on(day)

        days = sum((e - s).days + 1 for s, e in inside)
        sold = sum((qs[key][e] * rate(e) for _, e in inside), D(0)) * unit_cost
        cogs += sold
        per_day += sold / days
        levels = []
        for _, e in inside:
            stated = [q for d, q in sorted(qa[key]) if d <= e]
            if stated:
                levels.append(max(stated[-1], D(0)) * rate(e) * unit_cost)
                by_period[e] += levels[-1]
        average += sum(levels, D(0)) / len(levels) if levels else D(0)
    return {
        "cogs": money(cogs),
        "average": money(average),
        "dio": ratio(money(average) / per_day) if per_day else None,
        "by_period": {d.isoformat(): str(money(v)) for d, v in sorted(by_period.items())},
    }


@pytest.mark.parametrize(
    "start,end",
    [
        (date(2027, 1, 1), date(2027, 1, 20)),
        (date(2027, 1, 10), date(2027, 2, 14)),
        (date(2027, 2, 1), date(2027, 3, 3)),
        (date(2026, 12, 1), date(2026, 12, 31)),  # before any report
    ],
    ids=["first-weeks", "middle", "last-weeks", "no-data"],
)
def test_turnover_in_two_currencies_matches_the_raw_rows_and_rates(fx_replay, start, end):
    expected = _fx_brute_force(start, end)

    result = turnover_report(scope=EVERYTHING, filters=ALL, start=start, end=end)

    overall = result["overall"]
    assert D(overall["cogs"]) == expected["cogs"]
    assert D(overall["average_inventory"]) == expected["average"]
    assert overall["dio_days"] == (None if expected["dio"] is None else str(expected["dio"]))
    assert {p["period_end"]: p["value"] for p in overall["inventory_by_period"]} == expected[
        "by_period"
    ]
    # Every EUR rate converted at is stated, and only those: the rate on each EUR period end
    # in the window, and on the last EUR report on or before the end (the ending stock's).
    euro_ends = [FX_BUYERS["euro"] + timedelta(weeks=w) for w in range(8)]
    used = {d for d in euro_ends if start <= d <= end}
    used |= {max(d for d in euro_ends if d <= end)} if euro_ends[0] <= end else set()
    rate_dates = {max(k for k in FX_RATES if k <= d).isoformat() for d in used}
    assert {r["date"] for r in result["rates"]} == rate_dates


def _three_ways(rows, start, end, *, running=False):
    """The window summed by the grouped queries, by the query joined with the figure's
    item-locations, and in Python (and with ``running``, fourth, from the ledger's running
    totals): (sums, rates noted) each."""
    from smi_core.selectors.finance import performance
    from smi_core.selectors.finance.base import AgedRateBook

    out = []
    for way in (
        performance._window_sql,
        performance._window_sql_joined,
        performance._window_python,
        *([performance._window_running] if running else []),
    ):
        rates = AgedRateBook()
        out.append((way(rows, start=start, end=end, rates=rates, target="USD"), rates))
    return out


@pytest.mark.parametrize(
    "filters", [ALL, Filters(buyer="euro"), Filters(currency="USD")], ids=["all", "euro", "usd"]
)
def test_the_grouped_queries_and_the_python_sums_give_the_same_figures(
    fx_replay, require_postgres, filters
):
    """On PostgreSQL the window is summed by grouped queries; the joined query and the
    Python path (SQLite's) over the same rows must give the same Decimals, note the same
    rates and warn the same, whatever the filters leave out of the figure."""
    from smi_core.selectors.finance.base import costed_positions

    for start, end in [(date(2027, 1, 1), date(2027, 3, 3)), (date(2027, 1, 10), date(2027, 2, 9))]:
        rows = costed_positions(scope=EVERYTHING, filters=filters, as_of=end)
        ways = _three_ways(rows, start, end, running=True)
        (grouped, by_grouped), (joined, by_joined), (python, by_python), running = ways

        assert grouped == python and joined == python
        assert grouped[0] and grouped[1]  # not two empty results
        # From the running totals without the trend: the same sums per item-location, the
        # per-period spans of those converted from EUR only.
        assert running[0] == (python[0], _converted_spans(python[1]))
        for rates in (by_grouped, by_joined, running[1]):
            assert rates.warnings() == by_python.warnings()
            assert set(rates._cache) == set(by_python._cache)


def _converted_spans(spans: dict) -> dict:
    return {key: span for key, span in spans.items() if key[1] != "USD"}


@pytest.mark.parametrize(
    "filters", [ALL, Filters(buyer="euro"), Filters(currency="USD")], ids=["all", "euro", "usd"]
)
def test_the_running_totals_give_the_python_sums(fx_replay, filters):
    """On either database: the window from the running totals (two rows per item-location,
    the EUR ones' conversion from their rows) equals the sums of every period's row."""
    from smi_core.selectors.finance import performance
    from smi_core.selectors.finance.base import AgedRateBook, costed_positions

    for start, end in [(date(2027, 1, 1), date(2027, 3, 3)), (date(2027, 1, 10), date(2027, 2, 9))]:
        rows = costed_positions(scope=EVERYTHING, filters=filters, as_of=end)
        by_python, by_running = AgedRateBook(), AgedRateBook()
        python = performance._window_python(
            rows, start=start, end=end, rates=by_python, target="USD"
        )
        running = performance._window_running(
            rows, start=start, end=end, rates=by_running, target="USD"
        )

        assert running == (python[0], _converted_spans(python[1]))
        assert python[0]  # not an empty window
        assert by_running.warnings() == by_python.warnings()
        assert set(by_running._cache) == set(by_python._cache)


def test_a_location_with_its_own_cost_is_summed_by_the_joined_query(
    fx_replay, require_postgres, monkeypatch
):
    """Two locations of one buyer with different costs for X: the per-item-and-buyer sums
    cannot be valued at one cost, so the window is summed by the joined query (same
    figures as Python)."""
    from smi_core.selectors.finance import performance
    from smi_core.selectors.finance.base import costed_positions

    north = SupplyAgreement.objects.get(code="acme-north")
    s2 = LocationFactory(party=north.buyer, code="S2")
    AgreementTerm.objects.create(
        agreement=north, item=fx_replay["x"], location=s2, unit_cost=D("9.25"),
        net_selling_price=D(11),
    )  # fmt: skip
    week("NORTH", "20270125", "20270131", "S2", [("VN*X", ["ZA*QA*12*EA", "ZA*QS*3*EA"])],
         control=next(_control))  # fmt: skip
    joined = []
    real = performance._window_sql_joined
    monkeypatch.setattr(
        performance, "_window_sql_joined", lambda *a, **kw: joined.append(1) or real(*a, **kw)
    )
    rows = costed_positions(scope=EVERYTHING, filters=ALL, as_of=date(2027, 3, 3))

    ways = _three_ways(rows, date(2027, 1, 1), date(2027, 3, 3), running=True)
    (grouped, _), _, (python, _), (running, _) = ways

    assert grouped == python
    assert running == (python[0], _converted_spans(python[1]))
    # The grouped path fell back once, _three_ways called it once; the running totals' path
    # did not need it (the EUR buyer's locations share their costs).
    assert joined == [1, 1]
    s2_window = grouped[0][(fx_replay["x"].pk, s2.pk)]
    assert (s2_window.units, s2_window.points) == (D(3), 1)


def test_working_capital_is_the_same_by_query_and_in_python(
    fx_replay, require_postgres, monkeypatch
):
    from smi_core.selectors.finance import performance

    def figures():
        return [
            turnover_report(
                scope=EVERYTHING, filters=ALL, start=date(2027, 1, 25), end=date(2027, 3, 3)
            ),
            working_capital(
                scope=EVERYTHING, filters=ALL, start=date(2027, 2, 4), end=date(2027, 3, 3),
                baseline_start=date(2027, 1, 1), baseline_end=date(2027, 2, 3),
                carrying_rate=D("0.15"),
            ),
        ]  # fmt: skip

    by_sql = figures()
    monkeypatch.setattr(performance, "_window_sql", performance._window_python)
    monkeypatch.setattr(performance, "_window_running", performance._window_python)
    by_python = figures()

    assert by_sql == by_python
    assert by_sql[1]["released"] is not None
    # The EUR week to 02-10 is converted at the rate of 01-27: 14 days old, a warning.
    assert [(w["rate_date"], w["used_for"]) for w in by_sql[0]["rate_warnings"]] == [
        ("2027-01-27", "2027-02-10")
    ]


def test_the_window_query_leaves_the_planner_settings_as_it_found_them(example, require_postgres):
    from django.db import connection

    def settings_now():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_nestloop'), current_setting('work_mem'), "
                "current_setting('jit')"
            )
            return cursor.fetchone()

    before = settings_now()
    turnover_report(scope=EVERYTHING, filters=ALL, start=date(2027, 3, 1), end=date(2027, 3, 14))

    # Still inside the test's transaction: the query's own settings must not leak into it.
    assert settings_now() == before


def test_rates_read_for_many_days_at_once_are_those_rate_on_gives():
    """``peek_days`` reads a pair's rates in two queries; each day's must be the one
    ``rate_on`` picks: the latest on or before it, direct before an older inverse, the
    inverse to 8 places, none before the first."""
    from smi_core.models import ExchangeRate
    from smi_core.selectors.finance.base import AgedRateBook
    from smi_core.services.fx import MissingRate, rate_on

    for currency, quote, day, rate in [
        ("EUR", "USD", date(2027, 1, 10), "1.10"),
        ("USD", "EUR", date(2027, 1, 20), "0.8"),  # newer inverse: 1 / 0.8 = 1.25
        ("EUR", "USD", date(2027, 2, 1), "1.3"),
        ("GBP", "USD", date(2027, 1, 15), "1.27"),
    ]:
        ExchangeRate.objects.create(currency=currency, quote=quote, date=day, rate=D(rate))
    days = [date(2027, 1, d) for d in (5, 10, 19, 20, 31)] + [date(2027, 2, 1), date(2027, 3, 1)]
    book = AgedRateBook()
    book.peek_days("EUR", "USD", days)
    book.peek_days("USD", "GBP", days)  # only the inverse exists

    for pair in (("EUR", "USD"), ("USD", "GBP")):
        for day in days:
            try:
                expected = rate_on(*pair, day)
            except MissingRate:
                expected = None
            assert book._found[(*pair, day)] == expected, (pair, day)
    assert book._found[("EUR", "USD", date(2027, 1, 20))].rate == D("1.25")
