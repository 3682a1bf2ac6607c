"""Finance figures from real 852s, agreements, rates and orders, against hand-computed
answers: the EUR/USD example of DESIGN.md, the intercompany elimination, turnover, service,
cash-out timing, row-level visibility, the API (JSON and CSV) and the rates loader."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from smi_core.models import ExchangeRate, SupplyAgreement
from smi_core.selectors.finance import (
    Filters,
    FinanceForbidden,
    FinanceScope,
    cash_forecast,
    fx_adjustments,
    intercompany,
    service_report,
    turnover_report,
    valuation,
)
from smi_core.services.audit import Actor
from smi_core.services.fx import MissingRate, RatesRejected, finance_access_grant, fx_load, rate_on
from smi_edi.services.order_documents import order_acknowledge, order_ship
from tests.finance_world import build_finance_world, week
from tests.orders import person

pytestmark = pytest.mark.django_db
D = Decimal
AS_OF = date(2026, 11, 25)
EVERYTHING = FinanceScope.everything()
ALL = Filters()


@pytest.fixture
def world(settings, tmp_path):
    return build_finance_world(settings, tmp_path)


def test_eur_inventory_stays_at_the_historical_rate_and_passes_the_nrv_test(world):
    result = valuation(
        scope=EVERYTHING, filters=Filters(currency="EUR"), as_of=AS_OF, group_by=("buyer",)
    )

    row = result["rows"][0]
    assert (row["buyer"], row["value"], row["currency_of_value"]) == (
        "eu-stores",
        "10000.00",
        "EUR",
    )
    assert row["value_historical"] == "11000.00"  # EUR 10,000 at 1.10 (2026-10-02)
    assert row["value_closing"] == "12000.00"  # at 1.20 (2026-11-20)
    assert row["write_down"] == "0.00"  # NRV EUR 9,500 = USD 11,400 > cost 11,000
    assert [(r["rate"], r["date"]) for r in row["rates"]] == [
        ("1.10000000", "2026-10-02"),
        ("1.20000000", "2026-11-20"),
    ]


def test_exposure_is_reported_per_owner_consignment_stock_belonging_to_the_supplier(world):
    result = valuation(scope=EVERYTHING, filters=ALL, as_of=AS_OF, group_by=("owner", "currency"))

    owners = {(r["owner"], r["currency"]): r["value_closing"] for r in result["rows"]}
    assert owners == {
        ("supplier:acme-supply", "USD"): "200.00",  # 100 SOAP at 2.00, consignment
        ("buyer:eu-stores", "EUR"): "12000.00",
    }


def test_an_open_eur_invoice_is_remeasured_at_the_closing_rate_with_an_fx_loss(world):
    from tests.orders import person as staff

    eu = world["eu"].party
    order = _eur_order(world, quantity=D(1000))
    shipper = staff("shipper", "shipper")
    order_ship(
        po_number=order.po_number,
        user=shipper,
        actor=Actor.user(shipper),
        ship_date=date(2026, 10, 2),
    )

    result = fx_adjustments(scope=EVERYTHING, filters=Filters(buyer=eu.code), as_of=AS_OF)

    invoice = result["invoices"][0]
    assert (invoice["amount"], invoice["booked"], invoice["remeasured"]) == (
        "10000.00",
        "11000.00",
        "12000.00",
    )
    assert invoice["fx_gain_loss"] == "-1000.00" and result["fx_gain_loss_total"] == "-1000.00"
    assert result["inventory"] == [
        {
            "currency": "EUR",
            "cost_historical": "11000.00",
            "value_closing": "12000.00",
            "nrv": "11400.00",
            "write_down": "0.00",
            "rates": [
                {"pair": "EUR/USD", "rate": "1.10000000", "date": "2026-10-02", "inverted": False},
                {"pair": "EUR/USD", "rate": "1.20000000", "date": "2026-11-20", "inverted": False},
            ],
            "nrv_status": "tested",
        }
    ]


def _eur_order(world, quantity):
    from smi_core.models import ProposalLine, ReplenishmentProposal
    from smi_core.services.proposals import proposal_approve

    planner, approver = person("planner", "planner"), person("approver", "approver")
    agreement = SupplyAgreement.objects.get(code="eu-group")
    proposal = ReplenishmentProposal.objects.create(
        supplier=world["supplier"].party,
        buyer=world["eu"].party,
        ship_to=world["eu"].party.locations.get(),
        agreement=agreement,
        currency="EUR",
        value=quantity * 10,
        as_of=date(2026, 9, 30),
        po_date=AS_OF,  # the order date is the test's, not the calendar's
        created_by="user:planner",
        proposed_by=planner,
    )
    ProposalLine.objects.create(
        proposal=proposal,
        item=world["tea"],
        quantity=quantity,
        proposed_quantity=quantity,
        raw_quantity=quantity,
        unit_cost=D(10),
    )
    proposal_approve(proposal_id=proposal.pk, user=approver)
    order_acknowledge(order_id=proposal.pk, actor=Actor.system("test"))
    return ReplenishmentProposal.objects.get(pk=proposal.pk)


def test_intercompany_profit_in_ending_inventory_is_eliminated(world):
    week(
        "EUSTORES",
        "20261005",
        "20261011",
        "BER1",
        [("VN*TEA", ["ZA*QA*4000*EA"])],
        control=201,
    )

    result = intercompany(scope=EVERYTHING, filters=ALL, as_of=AS_OF)

    assert result["rows"] == [
        {
            "agreement": "eu-group",
            "seller": "acme-supply",
            "buyer": "eu-stores",
            "currency": "EUR",
            "seller_gross_margin": "0.2500",
            "intercompany_inventory": "40000.00",
            "unrealised_profit": "10000.00",
            "group_inventory": "30000.00",
            "entry": {
                "debit": {"account": "COGS", "amount": "10000.00"},
                "credit": {"account": "Inventory", "amount": "10000.00"},
            },
        }
    ]


def test_turnover_dio_and_gmroi_over_four_weeks(world):
    result = turnover_report(
        scope=EVERYTHING,
        filters=Filters(supplier="acme-supply", buyer="demo-retail"),
        start=date(2026, 10, 26),
        end=date(2026, 11, 22),
    )

    overall = result["overall"]
    # COGS 70 units * 2 = 140; inventory 200, 160, 0, 200: average 140; 28 days.
    assert (overall["cogs"], overall["average_inventory"]) == ("140.00", "140.00")
    assert overall["turnover"] == "1.0000"
    assert overall["dio_days"] == "28.0000"
    assert overall["gmroi"] == "0.5000"  # margin 70 * (3 - 2) / 140
    # Sales at the net selling price: 70 * 3 = 210; ending inventory 200 / 210.
    assert (overall["sales"], overall["sales_basis"]) == ("210.00", "net selling price")
    assert overall["inventory_to_sales"] == "0.9524"
    assert overall["weeks_of_supply"] == "5.7143"  # 100 on hand / (70 / 4)
    assert [p["value"] for p in overall["inventory_by_period"]] == [
        "200.00",
        "160.00",
        "0.00",
        "200.00",
    ]


def test_fill_rate_in_stock_and_stockouts_from_the_852_history(world):
    result = service_report(
        scope=EVERYTHING,
        filters=Filters(buyer="demo-retail"),
        start=date(2026, 10, 26),
        end=date(2026, 11, 22),
    )

    overall = result["overall"]
    # One stockout week of four; lost sales estimated at 20 (the average with stock).
    assert overall["stockouts"] == 1 and overall["in_stock_pct"] == "75.0000"
    assert overall["fill_rate"] == "0.7778"  # 70 / (70 + 20)


def test_consignment_stock_is_paid_as_it_is_consumed(world):
    from smi_core.models import ReplenishmentProposal, SeriesForecast

    ReplenishmentProposal.objects.all().delete()  # nothing on order: only the 100 on hand
    forecast = SeriesForecast.objects.get(item=world["soap"])
    result = cash_forecast(
        scope=EVERYTHING, filters=Filters(buyer="demo-retail"), as_of=AS_OF, weeks=12
    )
    forecast.delete()  # with no forecast, last week's sales (20) stand for demand
    fallback = cash_forecast(
        scope=EVERYTHING, filters=Filters(buyer="demo-retail"), as_of=AS_OF, weeks=8
    )

    weekly = (forecast.demand_per_week * 2).quantize(D("0.01"))
    first = next(i for i in result["items"] if i["kind"] == "consumption")
    assert (first["due"], first["amount"]) == ("2026-12-13", str(weekly))
    # 100 units at 2.00 still to consume, whatever the pace, and 60.00 owed for the 30
    # already sold in the weeks to 11-15 and 11-22 (due 11-29 and 12-06).
    assert result["total_reporting"] == "260.00"
    consumption = [i for i in fallback["items"] if i["kind"] == "consumption"]
    # 100 on hand, 20 a week: 5 weeks of 40.00, each paid 14 days after the week ends.
    assert [(i["due"], i["amount"]) for i in consumption] == [
        ("2026-12-13", "40.00"),
        ("2026-12-20", "40.00"),
        ("2026-12-27", "40.00"),
        ("2027-01-03", "40.00"),
        ("2027-01-10", "40.00"),
    ]


def test_an_approved_order_is_paid_after_lead_time_and_terms_in_its_currency(world):
    _eur_order(world, quantity=D(100))

    result = cash_forecast(
        scope=EVERYTHING, filters=Filters(buyer="eu-stores"), as_of=AS_OF, weeks=20
    )

    (order,) = [i for i in result["items"] if i["kind"] == "order"]
    # ships at once (2026-11-25), arrives 3 days later, paid 90 days after: 2027-02-26.
    assert (order["currency"], order["amount"], order["due"]) == ("EUR", "1000.00", "2027-02-26")
    week = result["buckets"][order["week"]]
    assert week["by_currency"] == {"EUR": "1000.00"} and week["reporting"] == "1200.00"


def test_a_finance_user_sees_only_the_parties_granted(world):
    user = person("fin", "finance")
    finance_access_grant(user=user, party=world["retail"].party, actor=Actor.system("test"))

    scope = FinanceScope.for_user(user)
    result = valuation(scope=scope, filters=ALL, as_of=AS_OF, group_by=("buyer",))

    assert [r["buyer"] for r in result["rows"]] == ["demo-retail"]
    with pytest.raises(FinanceForbidden):
        FinanceScope.for_user(person("plan", "planner"))


def test_the_api_gives_each_figure_as_json_and_csv_to_the_roles_that_may_see_it(world):
    client = APIClient()
    client.force_authenticate(person("aud", "auditor"))

    data = client.get("/api/v1/finance/valuation/?as_of=2026-11-25&group_by=buyer").json()
    csv_text = client.get("/api/v1/finance/valuation/?as_of=2026-11-25&group_by=buyer&export=csv")

    assert [r["value_closing"] for r in data["rows"]] == ["200.00", "12000.00"]
    lines = csv_text.content.decode().splitlines()
    assert lines[0].startswith("buyer,") and "12000.00" in lines[2]
    assert client.get("/api/v1/finance/nothing/").status_code == 404  # no such figure
    assert (
        client.get("/api/v1/finance/turnover/?start=2026-12-01&end=2026-11-01").status_code == 400
    )
    client.force_authenticate(person("plan", "planner"))
    assert client.get("/api/v1/finance/valuation/").status_code == 403


def test_rates_load_by_api_and_a_bad_row_loads_nothing(world):
    client = APIClient()
    client.force_authenticate(person("fin", "finance"))

    good = client.post(
        "/api/v1/finance/rates/",
        {"csv": "currency,quote,date,rate\nGBP,USD,2026-11-20,1.27\n"},
        format="json",
    )
    bad = client.post(
        "/api/v1/finance/rates/",
        {"csv": "currency,quote,date,rate\nCHF,USD,2026-11-20,1.13\nJPY,USD,2026-11-20,-1\n"},
        format="json",
    )

    assert good.json() == {"changed": 1}
    assert bad.status_code == 400 and "line 3: rate: -1 must be above 0" in bad.json()["message"]
    assert not ExchangeRate.objects.filter(currency="CHF").exists()
    assert rate_on("USD", "GBP", AS_OF).rate == D("0.78740157")  # the inverse, stated as such


def test_a_missing_rate_is_a_clear_error_not_a_wrong_figure(world):
    with pytest.raises(MissingRate, match="no EUR/USD exchange rate on or before 2026-09-01"):
        rate_on("EUR", "USD", date(2026, 9, 1))
    with pytest.raises(RatesRejected, match="lacks the column"):
        fx_load(text="currency,date\nEUR,2026-01-01\n", actor=Actor.system("test"))


def test_finance_report_prints_the_figures(world):
    out = io.StringIO()

    call_command("finance_report", "--as-of", "2026-11-25", "--figure", "valuation", stdout=out)

    # The table shows money as people read it: thousands separated, two decimals.
    assert "Inventory value and exposure" in out.getvalue() and "12,000.00" in out.getvalue()
    with pytest.raises(CommandError, match="is not a date"):
        call_command("finance_report", "--as-of", "yesterday")


def test_working_capital_released_against_a_baseline_fortnight(world):
    from smi_core.selectors.finance import working_capital

    result = working_capital(
        scope=EVERYTHING,
        filters=Filters(buyer="demo-retail"),
        start=date(2026, 11, 9),
        end=date(2026, 11, 22),
        baseline_start=date(2026, 10, 26),
        baseline_end=date(2026, 11, 8),
        carrying_rate=D("0.25"),
    )

    # Baseline: COGS 80, inventory 200 and 160 -> DIO 180 * 14 / 80 = 31.5.
    # Current: COGS 60, inventory 0 and 200 -> DIO 100 * 14 / 60 = 23.3333.
    # Released (31.5 - 23.3333) * (60 * 365 / 14) / 365 = 35.00; a quarter of it a year 8.75.
    assert (result["baseline_dio"], result["current_dio"]) == ("31.5000", "23.3333")
    assert (result["released"], result["annual_carrying_saving"]) == ("35.00", "8.75")


def test_the_supplier_scorecard_counts_shipped_on_time_and_received(world):
    from smi_core.models import Shipment
    from smi_core.selectors.finance import supplier_scorecard
    from smi_core.services.shipments import (
        PackLine,
        PackSpec,
        ShipmentSpec,
        shipment_receive,
    )
    from smi_edi.services.order_documents import shipment_send

    order = _eur_order(world, quantity=D(100))
    line = order.lines.get()
    shipper = person("shipper", "shipper")
    shipment, _ = shipment_send(
        supplier=world["supplier"].party,
        spec=ShipmentSpec(
            ship_date=line.promised_date,
            packs=[PackSpec(order.pk, (PackLine(line.pk, D(60)),))],
        ),
        user=shipper,
        actor=Actor.user(shipper),
    )
    shipment_receive(shipment_id=shipment.pk, actor=Actor.system("test"))

    card = supplier_scorecard(scope=EVERYTHING, filters=ALL)["suppliers"]["acme-supply"]

    assert Shipment.objects.get().status == Shipment.Status.RECEIVED
    assert (card["lines_ordered"], card["lines_shipped"]) == (1, 1)
    assert (card["units_ordered"], card["units_shipped"], card["units_received"]) == (
        "100.0000",
        "60.0000",
        "60.0000",
    )
    assert (card["unit_fill_pct"], card["on_time_pct"], card["received_vs_shipped_pct"]) == (
        "60.0000",
        "100.0000",
        "100.0000",
    )


def test_continuity_lists_what_runs_out_first_if_deliveries_stop(world):
    from smi_core.models import SeriesForecast
    from smi_core.selectors.finance import continuity

    forecast = SeriesForecast.objects.get(item=world["soap"])  # made by the ingest's plan
    weekly, made = forecast.demand_per_week, forecast.as_of

    result = continuity(scope=EVERYTHING, filters=ALL, as_of=made)["suppliers"]["acme-supply"]

    soap = next(e for e in result["item_locations"] if e["item"] == "SOAP")
    assert soap["days_of_cover"] == str((D(100) * 7 / weekly).quantize(D("0.0001")))
    assert soap["demand_source"] == f"forecast as of {made}"
    assert result["item_locations"][0]["item"] == "SOAP"  # TEA has no sales: never runs out
    assert result["first_run_out_days"] == soap["days_of_cover"]
