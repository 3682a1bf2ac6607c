"""Reading proposals and exceptions over the API: staff with the role see everything, a
partner sees its own, anyone else is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from smi_core.models import (
    AgreementTerm,
    ExceptionItem,
    ProposalLine,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.services.audit import Actor
from smi_core.services.exceptions import exception_raise, exception_resolve
from smi_core.services.roles import user_roles_set
from smi_edi.services.partners import partner_add
from tests.factories import ItemFactory, LocationFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def client_with(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def staff_token(name: str, *roles: str) -> str:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user_roles_set(user=user, roles=list(roles), actor=Actor.system("test"))
    return Token.objects.create(user=user).key


@pytest.fixture
def world(settings, tmp_path):
    settings.SMI_RAW_STORE_DIR = tmp_path / "raw"
    supplier, supplier_token = partner_add(
        code="acme-supply", name="Acme", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, buyer_token = partner_add(code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL")
    other, other_token = partner_add(code="other-retail", name="Other Retail", isa="ZZ:OTHERRETAIL")
    soap = ItemFactory(supplier=supplier.party, vendor_item="ACME-1001")
    towels = ItemFactory(supplier=supplier.party, vendor_item="ACME-1004")
    proposals = {}
    for party, store in ((buyer.party, "S001"), (other.party, "X001")):
        agreement = SupplyAgreement.objects.create(
            code=f"acme-{party.code}",
            buyer=party,
            supplier=supplier.party,
            currency="USD",
            effective_from=date(2026, 1, 1),
        )
        proposal = ReplenishmentProposal.objects.create(
            supplier=supplier.party,
            buyer=party,
            ship_to=LocationFactory(party=party, code=store),
            agreement=agreement,
            currency="USD",
            value=Decimal("99.60"),
            as_of=date(2026, 11, 24),
            created_by="system:test",
        )
        for item, quantity, cost in ((soap, 24, "2.40"), (towels, 10, "4.20")):
            AgreementTerm.objects.create(agreement=agreement, item=item, unit_cost=Decimal(cost))
            ProposalLine.objects.create(
                proposal=proposal,
                item=item,
                quantity=quantity,
                proposed_quantity=quantity,
                raw_quantity=Decimal(quantity) - Decimal("0.5"),
                unit_cost=Decimal(cost),
                explanation={"reorder_point": "30.0000", "inventory_position": "5.0000"},
            )
        proposals[party.code] = proposal
        exception_raise(
            kind=ExceptionItem.Kind.PROJECTED_STOCKOUT,
            partner=party,
            subject=f"stockout at {store}",
            message=f"{store} will run out",
            action="expedite",
        )
    resolved = exception_raise(
        kind=ExceptionItem.Kind.UNKNOWN_ITEM,
        partner=buyer.party,
        subject="VN:ACME-9999",
        message="unknown item",
        action="add it",
    )
    exception_resolve(exception=resolved, actor=None, note="test")
    return {
        "proposals": proposals,
        "buyer": buyer_token,
        "other": other_token,
        "supplier": supplier_token,
        "planner": staff_token("planner", "planner"),
        "partner_manager": staff_token("edi-ops", "partner_manager"),
    }


def ids(response) -> set[int]:
    return {p["id"] for p in response.json()["results"]}


def test_a_planner_lists_every_proposal(world):
    response = client_with(world["planner"]).get("/api/v1/proposals/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert ids(response) == {p.pk for p in world["proposals"].values()}
    mine = next(p for p in body["results"] if p["partner"] == "demo-retail")
    assert mine == {
        **mine,
        "status": "proposed",
        "supplier": "acme-supply",
        "ship_to": "S001",
        "agreement": "acme-demo-retail",
        "value": "99.60",
        "currency": "USD",
        "as_of": "2026-11-24",
        "order": None,
    }
    assert "lines" not in mine


def test_the_list_filters_by_partner_and_status(world):
    client = client_with(world["planner"])

    by_partner = client.get("/api/v1/proposals/", {"partner": "other-retail"})
    approved = client.get("/api/v1/proposals/", {"status": "approved"})

    assert ids(by_partner) == {world["proposals"]["other-retail"].pk}
    assert approved.json()["count"] == 0


def test_a_proposal_comes_with_its_lines_and_their_numbers(world):
    proposal = world["proposals"]["demo-retail"]

    response = client_with(world["planner"]).get(f"/api/v1/proposals/{proposal.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == proposal.pk and body["ship_to"] == "S001"
    assert [
        (line["vendor_item"], line["quantity"], line["raw_quantity"], line["unit_cost"])
        for line in body["lines"]
    ] == [("ACME-1001", "24", "23.5", "2.4000"), ("ACME-1004", "10", "9.5", "4.2000")]
    assert body["lines"][0]["explanation"]["reorder_point"] == "30.0000"


@pytest.mark.parametrize(
    ("who", "visible"),
    [
        ("buyer", {"demo-retail"}),
        ("other", {"other-retail"}),
        ("supplier", {"demo-retail", "other-retail"}),
    ],
    ids=["buyer", "other-buyer", "supplier"],
)
def test_a_partner_sees_only_its_own_proposals(world, who, visible):
    client = client_with(world[who])

    listed = client.get("/api/v1/proposals/")
    details = {
        code: client.get(f"/api/v1/proposals/{p.pk}/").status_code
        for code, p in world["proposals"].items()
    }

    assert {p["partner"] for p in listed.json()["results"]} == visible
    assert details == {code: 200 if code in visible else 404 for code in world["proposals"]}


@pytest.mark.parametrize(
    "url",
    ["/api/v1/proposals/", "/api/v1/proposals/{pk}/", "/api/v1/exceptions/"],
    ids=["proposals", "proposal", "exceptions"],
)
def test_anonymous_callers_are_refused(world, url):
    pk = world["proposals"]["demo-retail"].pk

    response = client_with(None).get(url.format(pk=pk))

    assert response.status_code == 401
    assert "results" not in response.json() and "lines" not in response.json()


@pytest.mark.parametrize(
    ("url", "permission"),
    [
        ("/api/v1/proposals/", "smi_core.view_replenishmentproposal"),
        ("/api/v1/proposals/{pk}/", "smi_core.view_replenishmentproposal"),
        ("/api/v1/exceptions/", "smi_core.view_exceptionitem"),
    ],
    ids=["proposals", "proposal", "exceptions"],
)
def test_staff_without_the_role_are_refused(world, url, permission):
    pk = world["proposals"]["demo-retail"].pk

    response = client_with(world["partner_manager"]).get(url.format(pk=pk))

    assert response.status_code == 403
    assert response.json() == {
        "error": "permission_denied",
        "message": f"you need the {permission} permission",
    }


def test_a_planner_reads_the_open_exceptions_queue(world):
    client = client_with(world["planner"])

    open_ones = client.get("/api/v1/exceptions/").json()
    resolved = client.get("/api/v1/exceptions/", {"status": "resolved"}).json()
    by_kind = client.get("/api/v1/exceptions/", {"kind": "unknown_item"}).json()

    assert sorted((e["partner"], e["kind"], e["subject"]) for e in open_ones["results"]) == [
        ("demo-retail", "projected_stockout", "stockout at S001"),
        ("other-retail", "projected_stockout", "stockout at X001"),
    ]
    first = open_ones["results"][0]
    assert first["status"] == "open" and first["occurrences"] == 1 and first["action"] == "expedite"
    assert [(e["kind"], e["subject"]) for e in resolved["results"]] == [
        ("unknown_item", "VN:ACME-9999")
    ]
    assert by_kind["count"] == 0  # the one unknown item is resolved


def test_a_partner_sees_only_its_own_exceptions(world):
    body = client_with(world["buyer"]).get("/api/v1/exceptions/").json()

    assert [(e["partner"], e["subject"]) for e in body["results"]] == [
        ("demo-retail", "stockout at S001")
    ]
