"""Gaps found by the finance audit: finance users see only the finance views, scoped;
every converted figure states its rates (selectors, CSV, dashboard); amounts owed has a
known answer; lead times are whole days without floats."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from smi_core.selectors.finance import (
    Filters,
    FinanceScope,
    cash_forecast,
    turnover_report,
    working_capital,
)
from smi_core.selectors.finance.cashflow import amounts_owed, lead_time_days
from smi_core.services.audit import Actor
from smi_core.services.fx import finance_access_grant
from smi_core.services.roles import roles_ensure
from smi_edi.services.order_documents import order_ship
from tests.finance_world import build_finance_world
from tests.orders import person
from tests.smi_core.test_finance import _eur_order

pytestmark = pytest.mark.django_db
D = Decimal
AS_OF = date(2026, 11, 25)
EVERYTHING = FinanceScope.everything()
EUR_110 = {"pair": "EUR/USD", "rate": "1.10000000", "date": "2026-10-02", "inverted": False}
EUR_120 = {"pair": "EUR/USD", "rate": "1.20000000", "date": "2026-11-20", "inverted": False}


@pytest.fixture
def world(settings, tmp_path):
    return build_finance_world(settings, tmp_path)


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


# -- 1. a finance user sees the finance views, scoped, and nothing else ---------------------


def test_a_finance_user_granted_one_buyer_sees_no_other_buyers_positions(world, client):
    roles_ensure()  # as post_migrate does
    user = person("fin", "finance")
    finance_access_grant(user=user, party=world["retail"].party, actor=Actor.system("test"))
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)

    admin_positions = client.get("/admin/smi_core/inventoryposition/")
    admin_proposals = client.get("/admin/smi_core/replenishmentproposal/")
    admin_grants = client.get("/admin/smi_core/financeaccess/")
    positions = api.get("/api/v1/positions/")
    proposals = api.get("/api/v1/proposals/")
    finance = api.get("/api/v1/finance/valuation/?as_of=2026-11-25&group_by=buyer")

    assert admin_positions.status_code == 403 and admin_proposals.status_code == 403
    assert admin_grants.status_code == 403  # nor everyone's grants
    assert positions.status_code == 403 and "eu-stores" not in positions.content.decode()
    assert proposals.status_code == 403
    assert finance.status_code == 200
    assert [r["buyer"] for r in finance.json()["rows"]] == ["demo-retail"]
    assert user.has_perm("smi_core.view_exchangerate")
    assert not user.has_perm("smi_core.view_party")


# -- 6. every converted figure states its rates -------------------------------------------


def test_turnover_states_the_rates_it_converted_at(world):
    result = turnover_report(
        scope=EVERYTHING,
        filters=Filters(buyer="eu-stores"),
        start=date(2026, 9, 28),
        end=date(2026, 10, 4),
    )

    # TEA's week ends 2026-10-04: converted at the rate in force then, 1.10 of 2026-10-02.
    assert result["overall"]["average_inventory"] == "11000.00"
    assert result["rates"] == [EUR_110]
    assert result["suppliers"]["acme-supply"]["rates"] == [EUR_110]


def test_working_capital_states_the_rates_of_both_periods(world):
    result = working_capital(
        scope=EVERYTHING,
        filters=Filters(buyer="eu-stores"),
        start=date(2026, 9, 28),
        end=date(2026, 10, 4),
        baseline_start=date(2026, 9, 21),
        baseline_end=date(2026, 9, 27),
    )

    assert result["rates"] == [EUR_110]
    assert result["current"] == {"start": "2026-09-28", "end": "2026-10-04"}


def test_fx_inventory_rows_and_csv_state_their_rates(world):
    client = APIClient()
    client.force_authenticate(person("aud", "auditor"))

    data = client.get("/api/v1/finance/fx/?as_of=2026-11-25").json()
    rows = _csv(client.get("/api/v1/finance/fx/?as_of=2026-11-25&export=csv"))

    assert data["inventory"][0]["rates"] == [EUR_110, EUR_120]
    assert data["rates"] == [EUR_110, EUR_120]
    inventory = next(r for r in rows if r["kind"] == "inventory")
    assert inventory["rates"] == (
        "EUR/USD 1.10000000 (2026-10-02); EUR/USD 1.20000000 (2026-11-20)"
    )


def test_cashflow_csv_and_dashboard_table_state_the_rate_of_each_week(world, client):
    _eur_order(world, quantity=D(100))
    auditor = person("aud", "auditor")
    api = APIClient()
    api.force_authenticate(auditor)
    client.force_login(auditor)

    rows = _csv(api.get("/api/v1/finance/cashflow/?as_of=2026-11-25&weeks=20&export=csv"))
    page = client.get("/finance/?as_of=2026-11-25&weeks=20").content.decode()

    eur_week = next(r for r in rows if r.get("amount_EUR"))
    assert eur_week["amount_EUR"] == "1000.00" and eur_week["amount_USD_reporting"] == "1200.00"
    assert eur_week["rates"] == "EUR/USD 1.20000000 (2026-11-20)"
    assert "EUR/USD 1.2 (2026-11-20)" in page  # the page shows the rate without trailing zeros


def test_turnover_csv_states_its_rates(world):
    client = APIClient()
    client.force_authenticate(person("aud", "auditor"))

    rows = _csv(
        client.get(
            "/api/v1/finance/turnover/?start=2026-09-28&end=2026-10-04&buyer=eu-stores&export=csv"
        )
    )

    assert {r["supplier"]: r["rates"] for r in rows} == {
        "acme-supply": "EUR/USD 1.10000000 (2026-10-02)",
        "(all)": "EUR/USD 1.10000000 (2026-10-02)",
    }


# -- 7. amounts owed: a known answer ------------------------------------------------------


def test_amounts_owed_for_a_shipped_eur_order_and_consigned_goods_sold(world):
    order = _eur_order(world, quantity=D(1000))
    shipper = person("shipper", "shipper")
    order_ship(
        po_number=order.po_number,
        user=shipper,
        actor=Actor.user(shipper),
        ship_date=date(2026, 10, 2),
    )

    result = amounts_owed(scope=EVERYTHING, filters=Filters(), as_of=AS_OF)

    assert result["rows"] == [
        {  # 1,000 TEA at EUR 10.00, shipped 2026-10-02, due 90 days after arrival
            "supplier": "acme-supply",
            "currency": "EUR",
            "orders": "10000.00",
            "consignment": "0.00",
            "total": "10000.00",
        },
        {  # SOAP sold in the 14 days to 2026-11-25 (weeks ending 11-15 and 11-22): 30 at 2.00
            "supplier": "acme-supply",
            "currency": "USD",
            "orders": "0.00",
            "consignment": "60.00",
            "total": "60.00",
        },
    ]
    assert isinstance(D(result["rows"][0]["total"]), Decimal)


# -- 8. lead times in whole days, by Decimal rounding ---------------------------------------


@pytest.mark.parametrize(
    ("lead", "days"),
    [("3", 3), ("2.5", 3), ("2.01", 3), ("0", 0)],
    ids=["whole", "half-day-up", "part-day-up", "none"],
)
def test_a_lead_time_in_part_days_counts_as_the_next_whole_day(lead, days):
    assert lead_time_days(D(lead)) == days


def test_an_order_with_a_half_day_lead_time_is_paid_a_whole_day_later(world):
    order = _eur_order(world, quantity=D(100))
    order.agreement.lead_time_days = D("2.5")
    order.agreement.save()

    result = cash_forecast(
        scope=EVERYTHING, filters=Filters(buyer="eu-stores"), as_of=AS_OF, weeks=20
    )

    (item,) = [i for i in result["items"] if i["kind"] == "order"]
    # ships 2026-11-25, arrives 3 whole days later (2.5 rounded up), paid 90 days after.
    assert item["due"] == "2027-02-26"
