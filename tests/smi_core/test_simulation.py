"""The scenario simulator against a hand-worked replay, its determinism, and the command
and page that run it."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from smi_core.planning.simulation import Assumptions, Series, simulate

D = Decimal


def steady(**kw) -> Series:
    values = {
        "key": "SOAP@shop/S1",
        "demand": (D(10),) * 4,
        "on_hand": D(20),
        "unit_cost": D(2),
        "lead_time_days": D(7),
        "service_level": D("0.5"),  # z = 0: order up to d * (R + L)
    }
    return Series(**(values | kw))


def test_a_steady_series_replays_as_worked_by_hand():
    result = simulate(
        [steady()], weeks=4, scenario=Assumptions(demand_factor=D(2)), carrying_rate=D("0.26")
    )

    # Current: 10 a week; each week sells 10 of 20 and orders 10 back (S = 10 * 2 weeks).
    current = result["current"]
    assert (current["fill_rate"], current["stockout_weeks"]) == ("1.0000", 0)
    assert current["average_inventory_value"] == "20.00"  # 10 left each week at 2.00
    assert current["carrying_cost"] == "0.40"  # 20.00 * 26 % * 4 / 52
    assert (current["orders"], current["units_ordered"]) == (4, "40.0000")
    # Demand doubled: week 1 sells all 20 and orders 40 (S = 20 * 2); then 20 left a week.
    scenario = result["scenario"]
    assert (scenario["fill_rate"], scenario["stockout_weeks"]) == ("1.0000", 0)
    assert scenario["average_inventory_value"] == "30.00"  # (0 + 20 + 20 + 20) / 4 * 2.00
    assert result["difference"]["average_inventory_value"] == "10.00"


def test_a_longer_lead_time_runs_out_before_the_order_arrives():
    result = simulate(
        [steady()], weeks=4, scenario=Assumptions(lead_time_days=D(21)), carrying_rate=D("0.2")
    )

    # Orders take three weeks: week 1 sells 10, week 2 the last 10, week 3 finds nothing.
    assert result["scenario"]["stockout_weeks"] >= 1
    assert D(result["scenario"]["fill_rate"]) < D(result["current"]["fill_rate"])


def test_the_same_seed_gives_the_same_result_and_another_seed_may_not():
    series = [steady(lead_time_sigma_days=D(5), demand=tuple(D(n % 7 + 5) for n in range(20)))]

    first = simulate(series, weeks=16, scenario=Assumptions(), carrying_rate=D("0.2"), seed=7)
    again = simulate(series, weeks=16, scenario=Assumptions(), carrying_rate=D("0.2"), seed=7)

    assert first == again


@pytest.mark.django_db
def test_the_command_and_the_page_run_a_scenario(settings, tmp_path, client):
    from tests.orders import person

    out = io.StringIO()
    call_command("simulate", "--weeks", "4", "--demand-factor", "1.5", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["assumptions"]["demand_factor"] == "1.5" and result["series"] == 0

    with pytest.raises(CommandError, match="--service-level is a fraction"):
        call_command("simulate", "--service-level", "95")

    client.force_login(person("fin", "finance"))
    page = client.get("/finance/simulate/?weeks=4&demand_factor=1.5&seed=2")
    assert page.status_code == 200 and 'id="comparison"' in page.text
    assert "check the inputs" in client.get("/finance/simulate/?weeks=x").text
