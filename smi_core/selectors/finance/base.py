"""What every finance figure starts from: who may see which parties, and each inventory
position with the agreement, the term (unit cost, net selling price) and the owner that
apply to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet

from smi_core.exceptions import ApplicationError
from smi_core.models import (
    AgreementTerm,
    FinanceAccess,
    InventoryPosition,
    Party,
    SupplyAgreement,
)
from smi_core.selectors.planning import agreements_in_force

ZERO = Decimal(0)


class FinanceForbidden(ApplicationError):
    code = "finance_forbidden"
    http_status = 403


@dataclass(frozen=True)
class FinanceScope:
    """The party ids a user may see; ``None``: all of them."""

    party_ids: frozenset[int] | None

    @classmethod
    def everything(cls) -> FinanceScope:
        return cls(None)

    @classmethod
    def for_user(cls, user) -> FinanceScope:
        """Auditors and superusers see everything; finance users the parties granted to
        them; anyone else nothing (refused)."""
        from smi_core.services.roles import role_names

        roles = role_names(user)
        if user.is_superuser or "auditor" in roles:
            return cls(None)
        if "finance" in roles:
            granted = FinanceAccess.objects.filter(user=user).values_list("party_id", flat=True)
            return cls(frozenset(granted))
        raise FinanceForbidden(
            f"{user.get_username()} holds neither the finance nor the auditor role"
        )

    def allows(self, *party_ids: int) -> bool:
        return self.party_ids is None or any(p in self.party_ids for p in party_ids)

    def positions(self, qs: QuerySet) -> QuerySet:
        if self.party_ids is None:
            return qs
        return qs.filter(
            Q(location__party_id__in=self.party_ids) | Q(item__supplier_id__in=self.party_ids)
        )

    def proposals(self, qs: QuerySet) -> QuerySet:
        if self.party_ids is None:
            return qs
        return qs.filter(Q(buyer_id__in=self.party_ids) | Q(supplier_id__in=self.party_ids))


def distinct_rates(rates) -> list[dict]:
    """Each rate used once (by pair and date), in pair and date order: the ``rates`` a
    converted figure states."""
    unique = {(r["pair"], r["date"]): r for r in rates}
    return sorted(unique.values(), key=lambda r: (r["pair"], r["date"] or ""))


@dataclass(frozen=True)
class Filters:
    supplier: str | None = None
    buyer: str | None = None
    currency: str | None = None
    owner: str | None = None  # "supplier" or "buyer"

    def positions(self, qs: QuerySet) -> QuerySet:
        if self.supplier:
            qs = qs.filter(item__supplier__code=self.supplier)
        if self.buyer:
            qs = qs.filter(location__party__code=self.buyer)
        return qs


@dataclass
class CostedPosition:
    position: InventoryPosition
    agreement: SupplyAgreement | None
    unit_cost: Decimal | None
    net_selling_price: Decimal | None

    @property
    def currency(self) -> str:
        return self.agreement.currency if self.agreement else settings.SMI_REPORTING_CURRENCY

    @property
    def consignment(self) -> bool:
        return bool(
            self.agreement and self.agreement.ownership == SupplyAgreement.Ownership.CONSIGNMENT
        )

    @property
    def owner_kind(self) -> str:
        return "supplier" if self.consignment else "buyer"

    @property
    def owner(self) -> Party:
        return self.position.item.supplier if self.consignment else self.position.location.party


def reporting_currency() -> str:
    return settings.SMI_REPORTING_CURRENCY


def term_index(agreement_ids: Iterable[int]) -> dict[tuple[int, int, int | None], AgreementTerm]:
    return {
        (t.agreement_id, t.item_id, t.location_id): t
        for t in AgreementTerm.objects.filter(agreement_id__in=list(agreement_ids))
    }


def costed_positions(*, scope: FinanceScope, filters: Filters, as_of: date) -> list[CostedPosition]:
    """Current positions the scope allows, each with its agreement in force on ``as_of``
    and its term (a location's own term before the item's general one)."""
    qs = filters.positions(
        scope.positions(
            InventoryPosition.objects.select_related("item__supplier", "location__party")
        )
    ).order_by(
        "item__supplier__code", "location__party__code", "location__code", "item__vendor_item"
    )
    agreements = agreements_in_force(as_of=as_of)
    terms = term_index(a.pk for a in agreements.values())
    rows = []
    for position in qs:
        agreement = agreements.get((position.item.supplier_id, position.location.party_id))
        term = None
        if agreement is not None:
            term = terms.get((agreement.pk, position.item_id, position.location_id)) or terms.get(
                (agreement.pk, position.item_id, None)
            )
        row = CostedPosition(
            position=position,
            agreement=agreement,
            unit_cost=term.unit_cost if term else None,
            net_selling_price=term.net_selling_price if term else None,
        )
        if filters.currency and row.currency != filters.currency:
            continue
        if filters.owner and row.owner_kind != filters.owner:
            continue
        rows.append(row)
    return rows
