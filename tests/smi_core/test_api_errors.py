"""Every API error is a documented 4xx in the project's shape, ids outside a partner's view
are indistinguishable from missing ones, and every list pages strictly (issue 13, findings
7 and 11)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smi_core.models import AuditEvent, InventoryPosition, Item, Location
from tests.smi_core import test_gaps_api
from tests.smi_core.test_gaps_api import client_with, staff_token

world = test_gaps_api.world  # the fixture: partners, their proposals, staff tokens

pytestmark = pytest.mark.django_db

MISSING = 987654


@pytest.mark.parametrize("action", ["approve", "reject"])
@pytest.mark.parametrize("who", ["buyer", "other", "planner", "approver"])
def test_deciding_a_missing_proposal_is_a_404_for_everyone(world, who, action):
    token = world.get(who) or staff_token("approver", "approver")

    response = client_with(token).post(
        f"/api/v1/proposals/{MISSING}/{action}/", {"reason": "too much"}, format="json"
    )

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": f"no proposal #{MISSING} that you may see",
    }


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_another_partners_proposal_looks_exactly_like_a_missing_one(world, action):
    theirs = world["proposals"]["other-retail"].pk
    client = client_with(world["buyer"])

    hidden = client.post(f"/api/v1/proposals/{theirs}/{action}/", {"reason": "x"}, format="json")
    missing = client.post(f"/api/v1/proposals/{MISSING}/{action}/", {"reason": "x"}, format="json")

    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.json()["message"].replace(str(theirs), "N") == missing.json()["message"].replace(
        str(MISSING), "N"
    )
    # nor is the attempt written against the other partner's proposal
    assert not AuditEvent.objects.filter(object_type="proposal", object_id=str(theirs)).exists()


def test_a_blank_rejection_reason_is_a_400_naming_the_field(world):
    pk = world["proposals"]["demo-retail"].pk
    planner = staff_token("approver", "approver")

    response = client_with(planner).post(
        f"/api/v1/proposals/{pk}/reject/", {"reason": "   "}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "reason_required" and "reason" in body["fields"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=abc", "offset"),
        ("offset=-1", "offset"),
        ("limit=0", "limit"),
        ("limit=1.5", "limit"),
        ("limit=100000", "limit"),
    ],
    ids=["offset-word", "offset-negative", "limit-zero", "limit-fraction", "limit-too-big"],
)
@pytest.mark.parametrize("url", ["/api/v1/proposals/", "/api/v1/exceptions/"])
def test_wrong_paging_parameters_are_a_400_not_ignored(world, url, query, field):
    response = client_with(world["planner"]).get(f"{url}?{query}")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and field in response.json()["fields"]


def test_a_page_holds_at_most_the_limit_and_says_the_total(world):
    response = client_with(world["planner"]).get("/api/v1/proposals/?limit=1")

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2 and len(body["results"]) == 1 and "offset=1" in body["next"]


def test_an_unknown_finance_figure_is_a_404(world):
    finance = staff_token("fin", "finance")

    response = client_with(finance).get("/api/v1/finance/no-such-figure/")

    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.fixture
def many_positions(world):
    """250 positions of the buyer (25 items x 10 stores), 10 of the other buyer."""
    from smi_edi.models import TradingPartner

    buyer = TradingPartner.objects.get(party__code="demo-retail").party
    other = TradingPartner.objects.get(party__code="other-retail").party
    supplier = TradingPartner.objects.get(party__code="acme-supply").party
    items = Item.objects.bulk_create(
        Item(supplier=supplier, vendor_item=f"BULK-{n:03d}", gtin=f"{80000000000000 + n:014d}")
        for n in range(25)
    )
    stores = Location.objects.bulk_create(
        Location(party=buyer, code=f"B{n:02d}", name=f"Store {n}") for n in range(10)
    )
    theirs = Location.objects.create(party=other, code="O01", name="Other store")
    InventoryPosition.objects.bulk_create(
        InventoryPosition(item=i, location=s, on_hand=Decimal(7), as_of=date(2026, 11, 21))
        for i in items
        for s in stores
    )
    InventoryPosition.objects.bulk_create(
        InventoryPosition(item=i, location=theirs, on_hand=Decimal(1), as_of=date(2026, 11, 21))
        for i in items[:10]
    )
    return world


def test_positions_page_by_cursor_through_every_position_once_without_counting(many_positions):
    client = client_with(many_positions["buyer"])
    seen, url, pages = [], "/api/v1/positions/?limit=100", 0

    with CaptureQueriesContext(connection) as queries:
        while url and pages < 10:
            body = client.get(url).json()
            seen += [(r["vendor_item"], r["location"]) for r in body["results"]]
            url, pages = body["next"], pages + 1

    assert pages == 3 and len(seen) == 250 == len(set(seen))
    assert {loc for _, loc in seen} == {f"B{n:02d}" for n in range(10)}  # none of the other's
    assert seen[0] == ("BULK-000", "B00") and seen[-1] == ("BULK-024", "B09")
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("query", ["limit=abc", "limit=-5"], ids=["word", "negative"])
def test_wrong_position_paging_parameters_are_a_400(many_positions, query):
    response = client_with(many_positions["buyer"]).get(f"/api/v1/positions/?{query}")

    assert response.status_code == 400 and response.json()["error"] == "invalid"


def test_a_cursor_the_api_did_not_give_out_names_no_page(many_positions):
    response = client_with(many_positions["buyer"]).get("/api/v1/positions/?cursor=bm90LWE")

    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_path_that_names_nothing_under_the_api_answers_json(world):
    response = client_with(world["planner"]).get("/api/v1/proposals/abc/approve/")

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "nothing at /api/v1/proposals/abc/approve/",
    }


@pytest.mark.parametrize(
    "query",
    ["ofset=5", "offset[x]=1", "limit="],
    ids=["misspelt", "object", "empty"],
)
def test_a_parameter_the_operation_does_not_take_or_an_empty_one_is_a_400(world, query):
    response = client_with(world["planner"]).get(f"/api/v1/proposals/?{query}")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


def test_a_date_too_far_back_to_count_a_period_from_is_a_400_not_a_500(world):
    finance = staff_token("fin", "finance")

    response = client_with(finance).get("/api/v1/finance/turnover/?end=0001-01-05")

    assert response.status_code == 400
    assert response.json()["message"] == "end 0001-01-05 is outside the years 1900 to 2999"


def test_an_id_too_long_for_the_database_is_a_404_not_an_overflow(world):
    response = client_with(world["planner"]).get(f"/api/v1/proposals/{'9' * 25}/")

    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_cursor_beyond_any_id_is_a_404_not_an_overflow(many_positions):
    import base64

    cursor = base64.urlsafe_b64encode(f"{'9' * 25}.1".encode()).decode()

    response = client_with(many_positions["buyer"]).get(f"/api/v1/positions/?cursor={cursor}")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    ["owner=", "owner=nobody", "export=xml", "as_of=", "weeks=1_0", "carrying_rate=lots"],
    ids=["owner-empty", "owner-unknown", "export", "date-empty", "weeks-underscore", "rate"],
)
def test_a_finance_parameter_outside_its_documented_form_is_a_400(world, query):
    finance = staff_token("fin", "finance")

    response = client_with(finance).get(f"/api/v1/finance/cashflow/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [{"reason": 12}, {"reason": "too\x00much"}, {"reason": True}],
    ids=["number", "nul", "boolean"],
)
def test_a_rejection_reason_must_be_text(world, body):
    pk = world["proposals"]["demo-retail"].pk
    approver = staff_token("approver", "approver")

    response = client_with(approver).post(f"/api/v1/proposals/{pk}/reject/", body, format="json")

    assert response.status_code == 400 and "reason" in response.json()["fields"]


@pytest.mark.parametrize(
    "query",
    ["offset=10000000000000000000", "partner=acme%00"],
    ids=["offset-beyond-any-table", "nul-in-text"],
)
def test_query_values_the_database_cannot_take_are_a_400(world, query):
    response = client_with(world["planner"]).get(f"/api/v1/proposals/?{query}")

    assert response.status_code == 400
