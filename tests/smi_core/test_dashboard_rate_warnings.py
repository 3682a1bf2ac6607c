"""The finance dashboard says when a figure used an exchange rate older than
SMI_FX_MAX_AGE_DAYS (the API and finance_report already carry the same warning)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_world(settings, tmp_path):
    from tests.finance_world import build_finance_world

    return build_finance_world(settings, tmp_path)


def test_the_dashboard_warns_of_an_old_rate_once_and_not_of_a_fresh_one(
    finance_world, admin_client
):
    # The last EUR/USD rate is of 2026-11-20: 5 days old on 11-25, 25 days on 12-15.
    fresh = admin_client.get("/finance/?as_of=2026-11-25").content.decode()
    old = admin_client.get("/finance/?as_of=2026-12-15").content.decode()

    assert 'id="old-rates"' not in fresh
    message = (
        "EUR/USD rate of 2026-11-20 used for 2026-12-15 is 25 days old (more than 7): "
        "load a newer rate"
    )
    assert f"Old exchange rates, used with this warning: {message}." in old
    assert old.count(message) == 1  # several sections used it: said once
