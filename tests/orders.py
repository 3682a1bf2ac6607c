"""A supplier, a buyer with two stores, items, an agreement, one user per role, and
approved orders, for the 855/856 tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model

from smi_core.models import AgreementTerm, ProposalLine, ReplenishmentProposal, SupplyAgreement
from smi_core.services.audit import Actor
from smi_core.services.proposals import proposal_approve
from smi_core.services.roles import user_roles_set
from smi_edi.services.partners import partner_add
from tests.factories import ItemCrossReferenceFactory, ItemFactory, LocationFactory


@dataclass
class World:
    supplier: object
    buyer: object
    supplier_token: str
    buyer_token: str
    stores: dict
    items: list
    agreement: object
    users: dict


def person(name: str, *roles: str, superuser: bool = False):
    user = get_user_model().objects.create_user(
        name, password="pw", is_staff=True, is_superuser=superuser
    )
    if roles:
        user_roles_set(user=user, roles=list(roles), actor=Actor.system("test"))
    return user


def build_world() -> World:
    supplier, supplier_token = partner_add(
        code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier"
    )
    buyer, buyer_token = partner_add(
        code="demo-retail", name="Demo Retail", isa="ZZ:DEMORETAIL", role="buyer"
    )
    stores = {
        "S001": LocationFactory(party=buyer.party, code="S001", gln="0614141000029"),
        "S002": LocationFactory(party=buyer.party, code="S002", gln=""),
    }
    items = [
        ItemFactory(
            supplier=supplier.party, vendor_item="ACME-1001", gtin="00614140010012", unit="EA"
        ),
        ItemFactory(
            supplier=supplier.party, vendor_item="ACME-1002", gtin="00614140010029", unit="EA"
        ),
        ItemFactory(supplier=supplier.party, vendor_item="ACME-1003", gtin="", unit="CA"),
    ]
    ItemCrossReferenceFactory(item=items[1], buyer=buyer.party, buyer_item="DR-50002")
    agreement = SupplyAgreement.objects.create(
        code="acme-demo",
        buyer=buyer.party,
        supplier=supplier.party,
        currency="USD",
        effective_from=date(2026, 1, 1),
    )
    for item in items:
        AgreementTerm.objects.create(agreement=agreement, item=item, unit_cost=Decimal("2.40"))
    users = {
        "planner": person("planner", "planner"),
        "approver": person("approver", "approver"),
        "shipper": person("shipper", "shipper"),
    }
    return World(supplier, buyer, supplier_token, buyer_token, stores, items, agreement, users)


def approved_order(
    world: World,
    quantities=(Decimal(24), Decimal(12)),
    *,
    store: str = "S001",
    approve: bool = True,
    unit_cost: Decimal = Decimal("2.40"),
) -> ReplenishmentProposal:
    proposal = ReplenishmentProposal.objects.create(
        supplier=world.supplier.party,
        buyer=world.buyer.party,
        ship_to=world.stores[store],
        agreement=world.agreement,
        currency="USD",
        value=sum(quantities) * unit_cost,
        as_of=date(2026, 11, 24),
        created_by="user:planner",
        proposed_by=world.users["planner"],
    )
    for item, quantity in zip(world.items, quantities, strict=False):
        ProposalLine.objects.create(
            proposal=proposal,
            item=item,
            quantity=quantity,
            proposed_quantity=quantity,
            raw_quantity=quantity,
            unit_cost=unit_cost,
            explanation={},
        )
    if approve:
        proposal_approve(proposal_id=proposal.pk, user=world.users["approver"])
    return ReplenishmentProposal.objects.get(pk=proposal.pk)
