"""Consignment settlement: what a buyer owes for the consigned stock it consumed in one of
the agreement's billing cycles, proposed, approved under segregation of duties and issued;
corrections as credit or debit memos that reference the issued invoice.

proposed -> approved -> issued -> partially_paid | paid (payments: settlement_payments).

Consumption per item-location comes from the point-in-time stock ledger (one row per
reported period, a later 852 for the same period replacing what it states), over the
periods that *end* inside the cycle:

- ``sold``: the sum of QS;
- ``stock_drop``: on hand before the cycle + QR received in it - on hand at its end. With no
  level before the cycle, the first period in it opens (its own consumption is unknown and
  noted). A rise net of receipts (an unreported receipt) bills nothing and is noted.

It is priced at the agreement's unit cost for the item at the location (else for the
item), in the agreement's currency, each line rounded to cents. Preparing the same
agreement and cycle again never bills twice: the database holds one invoice per agreement
and cycle; a proposed one is worked out again (late 852s), anything later is left alone.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.finance.formulas import money
from smi_core.models import (
    AgreementTerm,
    Item,
    Location,
    ProductActivity,
    SettlementInvoice,
    SettlementLine,
    SettlementStatusChange,
    SodRule,
    StockLevel,
    SupplyAgreement,
)
from smi_core.services.audit import Actor, audit_record
from smi_core.services.hooks import settlement_event
from smi_core.services.roles import exclusive_role_conflicts, role_names
from smi_core.services.sod import Breach, SodViolation

S = SettlementInvoice.Status
K = SettlementInvoice.Kind
ZERO = Decimal(0)
SETTLEMENT_ROLE = "finance"
TRANSITIONS: dict[str, set[str]] = {
    S.PROPOSED: {S.APPROVED},
    S.APPROVED: {S.ISSUED},
    S.ISSUED: {S.PARTIALLY_PAID, S.PAID},
    S.PARTIALLY_PAID: {S.PAID},
    S.PAID: set(),
}
OPEN = (S.ISSUED, S.PARTIALLY_PAID)
OPENING_DAYS = 35  # stock_drop: how far before a cycle its opening level is looked for


class SettlementRefused(ApplicationError):
    code = "settlement_refused"
    http_status = 409


class NothingToSettle(ApplicationError):
    code = "nothing_to_settle"
    http_status = 409


@dataclass(frozen=True)
class ConsumptionLine:
    item_id: int
    location_id: int
    unit: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    basis: dict
    source_sets: tuple[int, ...]


@dataclass(frozen=True)
class MemoLine:
    item_id: int
    location_id: int
    quantity: Decimal
    unit_price: Decimal
    unit: str = "EA"


# -- cycles ------------------------------------------------------------------------------


def settlement_cycle(*, cycle: str, day: date) -> tuple[date, date]:
    """The billing cycle holding ``day``: Monday to Sunday, or the calendar month."""
    if cycle == SupplyAgreement.BillingCycle.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if cycle == SupplyAgreement.BillingCycle.MONTHLY:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    raise SettlementRefused(f"unknown billing cycle {cycle!r}; it is weekly or monthly")


def settlement_cycles_due(*, agreement: SupplyAgreement, today: date) -> list[tuple[date, date]]:
    """Ended cycles since the agreement took effect (at most the last 12) not yet invoiced."""
    cycles = []
    start, end = settlement_cycle(cycle=agreement.billing_cycle, day=today)
    while len(cycles) < 12:
        start, end = settlement_cycle(cycle=agreement.billing_cycle, day=start - timedelta(days=1))
        if end < agreement.effective_from:
            break
        cycles.append((start, end))
    done = set(
        SettlementInvoice.objects.filter(agreement=agreement, kind=K.INVOICE).values_list(
            "cycle_start", flat=True
        )
    )
    return sorted(c for c in cycles if c[0] not in done)


# -- consumption -------------------------------------------------------------------------


def _prices(agreement: SupplyAgreement) -> dict[tuple[int, int | None], Decimal]:
    return {
        (t.item_id, t.location_id): t.unit_cost
        for t in AgreementTerm.objects.filter(agreement=agreement).only(
            "item_id", "location_id", "unit_cost"
        )
    }


class Level(NamedTuple):
    item_id: int
    location_id: int
    period_end: date
    on_hand: Decimal | None
    sold: Decimal | None
    received: Decimal | None


def _levels(agreement: SupplyAgreement, start: date, end: date) -> list[Level]:
    """The ledger's rows of the buyer's item-locations of the supplier, as plain tuples
    (a month of 10^4 item-locations is 10^5 rows: model instances would cost seconds)."""
    rows = (
        StockLevel.objects.filter(
            item__supplier_id=agreement.supplier_id,
            location__party_id=agreement.buyer_id,
            period_end__gte=start,
            period_end__lte=end,
        )
        .order_by("item_id", "location_id", "period_end")
        .values_list("item_id", "location_id", "period_end", "on_hand", "sold", "received")
    )
    return [Level(*row) for row in rows]


def _source_sets(agreement, start, end, codes) -> dict[tuple[int, int], tuple[int, ...]]:
    found: dict[tuple[int, int], set[int]] = defaultdict(set)
    rows = (
        ProductActivity.objects.filter(
            item__supplier_id=agreement.supplier_id,
            location__party_id=agreement.buyer_id,
            period_end__gte=start,
            period_end__lte=end,
            activity_code__in=codes,
        )
        .values_list("item_id", "location_id", "source_set_id")
        .distinct()
    )
    for item_id, location_id, set_id in rows:
        found[(item_id, location_id)].add(set_id)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def consumption_compute(
    *, agreement: SupplyAgreement, start: date, end: date
) -> tuple[list[ConsumptionLine], list[str]]:
    """Lines priced for the cycle [start, end], and notes on what was left out and why."""
    stock_drop = agreement.consumption_basis == SupplyAgreement.ConsumptionBasis.STOCK_DROP
    codes = ("QA", "QR") if stock_drop else ("QS",)
    sets = _source_sets(agreement, start, end, codes)
    prices = _prices(agreement)
    periods: dict[tuple[int, int], list[Level]] = defaultdict(list)
    for level in _levels(agreement, start, end):
        periods[(level.item_id, level.location_id)].append(level)
    openings: dict[tuple[int, int], Level] = {}
    if stock_drop and periods:
        # The opening level: the last one reported in the OPENING_DAYS before the cycle.
        before = _levels(agreement, start - timedelta(days=OPENING_DAYS), start - timedelta(1))
        for level in before:
            openings[(level.item_id, level.location_id)] = level  # the last one wins
    items = {
        pk: (vendor_item, unit)
        for pk, vendor_item, unit in Item.objects.filter(
            pk__in={k[0] for k in periods}
        ).values_list("pk", "vendor_item", "unit")
    }
    codes_of = dict(
        Location.objects.filter(pk__in={k[1] for k in periods}).values_list("pk", "code")
    )
    lines: list[ConsumptionLine] = []
    notes: list[str] = []
    reported_to = max((rows[-1].period_end for rows in periods.values()), default=None)
    if reported_to is not None and reported_to < end:
        notes.append(
            f"the buyer's reports reach {reported_to}, not the cycle's end {end}: what was "
            "consumed after it is not in this invoice (prepared again while proposed, it "
            "takes the later reports)"
        )
    for key, rows in sorted(
        periods.items(), key=lambda kv: (codes_of[kv[0][1]], items[kv[0][0]][0])
    ):
        vendor_item, unit = items[key[0]]
        where = f"{vendor_item} at {codes_of[key[1]]}"
        if stock_drop:
            opening_row = openings.get(key)
            flows = rows
            if opening_row is None or opening_row.on_hand is None:
                opening_row, flows = rows[0], rows[1:]
                notes.append(
                    f"{where}: no stock reported in the {OPENING_DAYS} days before {start}; "
                    "the period to "
                    f"{opening_row.period_end} opens the cycle and its own consumption is "
                    "not billed"
                )
            closing = rows[-1].on_hand
            if opening_row.on_hand is None or closing is None:
                notes.append(f"{where}: no on hand (QA) reported; nothing billed")
                continue
            received = sum((r.received or ZERO for r in flows), ZERO)
            quantity = opening_row.on_hand + received - closing
            basis = {
                "basis": "stock_drop",
                "opening": _quantity(opening_row.on_hand),
                "opening_period_end": opening_row.period_end.isoformat(),
                "received": _quantity(received),
                "closing": _quantity(closing),
                "closing_period_end": rows[-1].period_end.isoformat(),
            }
            if quantity < 0:
                notes.append(
                    f"{where}: stock rose by {_quantity(-quantity)} net of receipts "
                    "(a receipt not reported?); nothing billed"
                )
                continue
        else:
            sold = [r.sold for r in rows if r.sold is not None]
            if not sold:
                continue
            quantity = sum(sold, ZERO)
            basis = {
                "basis": "sold",
                "periods": [
                    {"end": r.period_end.isoformat(), "sold": _quantity(r.sold)}
                    for r in rows
                    if r.sold is not None
                ],
            }
        if quantity == 0:
            continue
        price = prices.get(key, prices.get((key[0], None)))
        if price is None:
            notes.append(
                f"{where}: {_quantity(quantity)} consumed but the agreement has no price for "
                "the item; not billed"
            )
            continue
        lines.append(
            ConsumptionLine(
                item_id=key[0],
                location_id=key[1],
                unit=unit or "EA",
                quantity=quantity,
                unit_price=price,
                amount=money(quantity * price),
                basis=basis,
                source_sets=sets.get(key, ()),
            )
        )
    return lines, notes


# -- preparing ---------------------------------------------------------------------------


def _lines_create(invoice: SettlementInvoice, lines: list[ConsumptionLine]) -> None:
    SettlementLine.objects.bulk_create(
        SettlementLine(
            invoice=invoice,
            line_number=n,
            item_id=line.item_id,
            location_id=line.location_id,
            quantity=line.quantity,
            unit=line.unit,
            unit_price=line.unit_price,
            amount=line.amount,
            basis=line.basis,
            source_sets=list(line.source_sets),
        )
        for n, line in enumerate(lines, start=1)
    )


def _snapshot(invoice: SettlementInvoice) -> dict:
    return {
        "number": invoice.number,
        "total": str(invoice.total),
        "currency": invoice.currency,
        "lines": [
            [ln.item_id, ln.location_id, str(ln.quantity), str(ln.unit_price), str(ln.amount)]
            for ln in invoice.lines.order_by("line_number")
        ],
    }


def _unchanged(invoice: SettlementInvoice, lines: list[ConsumptionLine], notes: list[str]):
    """Whether working the cycle out again gives what the invoice already says."""
    stored = list(
        invoice.lines.order_by("line_number").values_list(
            "item_id", "location_id", "quantity", "unit_price", "amount", "basis", "source_sets"
        )
    )
    fresh = [
        (
            ln.item_id,
            ln.location_id,
            ln.quantity,
            ln.unit_price,
            ln.amount,
            ln.basis,
            list(ln.source_sets),
        )
        for ln in lines
    ]
    return stored == fresh and invoice.notes == notes


def settlement_prepare(
    *, agreement_id: int, day: date, user=None, actor: Actor | None = None, today=None
) -> tuple[SettlementInvoice, bool]:
    """Propose the invoice of the cycle holding ``day``; (invoice, created). Run again for
    the same cycle, a proposed invoice is worked out again and anything later is returned
    as it is."""
    actor = actor or (Actor.user(user) if user else Actor.system("settlement"))
    today = today or timezone.localdate()
    agreement = SupplyAgreement.objects.select_related("buyer", "supplier").get(pk=agreement_id)
    if agreement.ownership != SupplyAgreement.Ownership.CONSIGNMENT:
        raise SettlementRefused(
            f"agreement {agreement.code} is not a consignment agreement; the buyer pays for "
            "its orders, not for what it consumes"
        )
    start, end = settlement_cycle(cycle=agreement.billing_cycle, day=day)
    if end >= today:
        raise SettlementRefused(
            f"the {agreement.billing_cycle} cycle {start} to {end} has not ended yet "
            f"(today is {today})"
        )
    with transaction.atomic():
        existing = (
            SettlementInvoice.objects.select_for_update()
            .filter(agreement=agreement, kind=K.INVOICE, cycle_start=start)
            .first()
        )
        if existing is not None and existing.status != S.PROPOSED:
            return existing, False
        lines, notes = consumption_compute(agreement=agreement, start=start, end=end)
        if not lines and existing is None:
            raise NothingToSettle(
                f"nothing to bill under {agreement.code} for {start} to {end}"
                + (": " + "; ".join(notes) if notes else ": no consumption reported"),
                extra={"notes": notes},
            )
        total = money(sum((line.amount for line in lines), ZERO))
        sets = sorted({s for line in lines for s in line.source_sets})
        if existing is not None:
            if _unchanged(existing, lines, notes):
                return existing, False
            before = _snapshot(existing)
            existing.lines.all().delete()
            _lines_create(existing, lines)
            existing.total, existing.notes, existing.source_sets = total, notes, sets
            if user is not None:  # the figures now on it are this user's (SOD-06); a system
                existing.prepared_by = user  # run keeps the person who prepared it
            existing.save(update_fields=["total", "notes", "source_sets", "prepared_by"])
            audit_record(
                actor=actor,
                action="settlement.recompute",
                object_type="settlement",
                object_id=existing.pk,
                before=before,
                after=_snapshot(existing),
            )
            return existing, False
        invoice = SettlementInvoice(
            number=f"S{agreement.pk}-{start:%Y%m%d}",
            kind=K.INVOICE,
            method=agreement.settlement_method,
            agreement=agreement,
            buyer=agreement.buyer,
            supplier=agreement.supplier,
            cycle_start=start,
            cycle_end=end,
            currency=agreement.currency,
            total=total,
            notes=notes,
            source_sets=sets,
            prepared_by=user,
        )
        try:
            with transaction.atomic():
                invoice.save(force_insert=True)
        except IntegrityError:
            # Prepared at the same moment elsewhere: that one stands.
            return SettlementInvoice.objects.get(
                agreement=agreement, kind=K.INVOICE, cycle_start=start
            ), False
        _lines_create(invoice, lines)
        audit_record(
            actor=actor,
            action="settlement.prepare",
            object_type="settlement",
            object_id=invoice.pk,
            after=_snapshot(invoice) | {"cycle": [start.isoformat(), end.isoformat()]},
        )
    return invoice, True


def settlement_memo_create(
    *,
    original_id: int,
    kind: str,
    lines: list[MemoLine],
    reason: str,
    user=None,
    actor: Actor | None = None,
) -> SettlementInvoice:
    """A credit or debit memo correcting an issued invoice: a new document, proposed, that
    goes through approval and issue like the invoice; the invoice itself never changes."""
    actor = actor or (Actor.user(user) if user else Actor.system("settlement"))
    if kind not in (K.CREDIT_MEMO, K.DEBIT_MEMO):
        raise SettlementRefused(f"a memo is a credit_memo or a debit_memo, not {kind!r}")
    if not reason.strip():
        raise SettlementRefused("a memo needs a reason")
    if not lines:
        raise SettlementRefused("a memo needs at least one line")
    for line in lines:
        if line.quantity <= 0 or line.unit_price < 0:
            raise SettlementRefused(
                "a memo line's quantity must be above 0 and its price not below 0 "
                f"(got {line.quantity} at {line.unit_price})"
            )
    with transaction.atomic():
        original = SettlementInvoice.objects.select_for_update().get(pk=original_id)
        if original.kind != K.INVOICE or original.status not in (*OPEN, S.PAID):
            raise SettlementRefused(
                f"{original.number} is a {original.kind} that is {original.status}; memos "
                "correct issued invoices (a proposed or approved one is prepared again)"
            )
        amounts = [money(line.quantity * line.unit_price) for line in lines]
        total = money(sum(amounts, ZERO))
        n = original.memos.count() + 1
        memo = SettlementInvoice.objects.create(
            number=f"{'CM' if kind == K.CREDIT_MEMO else 'DM'}{n}-{original.number}"[:22],
            kind=kind,
            method=original.method,
            agreement=original.agreement,
            buyer=original.buyer,
            supplier=original.supplier,
            original=original,
            cycle_start=original.cycle_start,
            cycle_end=original.cycle_end,
            currency=original.currency,
            total=-total if kind == K.CREDIT_MEMO else total,
            reason=reason,
            prepared_by=user,
        )
        SettlementLine.objects.bulk_create(
            SettlementLine(
                invoice=memo,
                line_number=i,
                item_id=line.item_id,
                location_id=line.location_id,
                quantity=line.quantity,
                unit=line.unit,
                unit_price=line.unit_price,
                amount=amount,
                basis={"basis": "memo", "reason": reason},
            )
            for i, (line, amount) in enumerate(zip(lines, amounts, strict=True), start=1)
        )
        audit_record(
            actor=actor,
            action="settlement.memo",
            object_type="settlement",
            object_id=memo.pk,
            after=_snapshot(memo) | {"original": original.number, "reason": reason},
        )
    return memo


# -- approving and issuing -----------------------------------------------------------------


def settlement_transition(
    *, invoice: SettlementInvoice, to: str, actor: Actor, reason: str = ""
) -> None:
    current = invoice.status
    if to not in TRANSITIONS.get(current, set()):
        raise SettlementRefused(
            f"{invoice.number} is {current}; it cannot become {to}",
            extra={"from": current, "to": to, "allowed": sorted(TRANSITIONS.get(current, ()))},
        )
    invoice.status = to
    invoice.save(update_fields=["status"])
    SettlementStatusChange.objects.create(
        invoice=invoice, from_status=current, to_status=to, actor=actor.name, reason=reason
    )
    audit_record(
        actor=actor,
        action="settlement.status",
        object_type="settlement",
        object_id=invoice.pk,
        before={"status": current},
        after={"status": to, "reason": reason},
    )


def approval_breaches(*, invoice: SettlementInvoice, user) -> list[Breach]:
    """Every rule approving ``invoice`` by ``user`` would break. Superusers are not exempt."""
    breaches = []
    roles = role_names(user)
    if SETTLEMENT_ROLE not in roles:
        breaches.append(
            Breach("ROLE", f"{user.get_username()} does not hold the {SETTLEMENT_ROLE} role")
        )
    for rule in SodRule.objects.filter(active=True, kind=SodRule.Kind.PREPARER_NOT_APPROVER):
        if invoice.prepared_by_id is not None and invoice.prepared_by_id == user.pk:
            breaches.append(
                Breach(rule.code, f"{user.get_username()} prepared {invoice.number}. {rule.reason}")
            )
    # as for proposals: roles a rule forbids together, held anyway (given before the rule)
    for code, reason in exclusive_role_conflicts(roles):
        breaches.append(Breach(code, f"{user.get_username()} holds both roles. {reason}"))
    return breaches


def _locked(invoice_id: int) -> SettlementInvoice:
    return (
        SettlementInvoice.objects.select_for_update()
        .select_related("agreement", "buyer", "supplier")
        .get(pk=invoice_id)
    )


def settlement_approve(*, invoice_id: int, user, actor: Actor | None = None) -> SettlementInvoice:
    """Approve a proposed settlement after the SoD check; a denial is recorded (audit event
    with the rule codes, committed) and then raised as SodViolation."""
    actor = actor or Actor.user(user)
    with transaction.atomic():
        invoice = _locked(invoice_id)
        if invoice.status != S.PROPOSED:
            raise SettlementRefused(
                f"{invoice.number} is {invoice.status}; only proposed settlements are approved"
            )
        breaches = approval_breaches(invoice=invoice, user=user)
        codes = [b.code for b in breaches]
        if breaches:
            audit_record(
                actor=actor,
                action="settlement.approve.denied",
                object_type="settlement",
                object_id=invoice.pk,
                after={"number": invoice.number, "reasons": [b.reason for b in breaches]},
                rule_codes=codes,
            )
        else:
            invoice.approved_by, invoice.approved_at = user, timezone.now()
            invoice.save(update_fields=["approved_by", "approved_at"])
            settlement_transition(invoice=invoice, to=S.APPROVED, actor=actor, reason="approved")
            audit_record(
                actor=actor,
                action="settlement.approve",
                object_type="settlement",
                object_id=invoice.pk,
                after=_snapshot(invoice),
            )
    if breaches:  # the denial is recorded (committed above); now refuse
        raise SodViolation(
            f"{user.get_username()} may not approve {invoice.number}: "
            + " ".join(f"[{b.code}] {b.reason}" for b in breaches),
            codes,
        )
    return invoice


class SettlementDocumentInvalid(ApplicationError):
    """The 810 built for a settlement failed our validation; nothing was issued."""

    code = "document_invalid"
    http_status = 422


def settlement_issue(
    *, invoice_id: int, user, actor: Actor | None = None, today: date | None = None
) -> SettlementInvoice:
    """Issue an approved settlement: dated today, due after the agreement's payment terms,
    and (unless the agreement is settled by ERS) sent as an 810 by the EDI app in the same
    transaction; an 810 that fails our validation issues nothing."""
    from smi_core.services.exceptions import exception_raise

    actor = actor or Actor.user(user)
    today = today or timezone.localdate()
    if SETTLEMENT_ROLE not in role_names(user):
        raise SodViolation(
            f"{user.get_username()} may not issue settlements: the {SETTLEMENT_ROLE} role is "
            "needed",
            ["ROLE"],
        )
    try:
        with transaction.atomic():
            invoice = _locked(invoice_id)
            if invoice.status != S.APPROVED:
                raise SettlementRefused(
                    f"{invoice.number} is {invoice.status}; only approved settlements are issued"
                )
            invoice.invoice_date = today
            invoice.due_date = today + timedelta(days=invoice.agreement.payment_terms_days)
            invoice.issued_by, invoice.issued_at = user, timezone.now()
            invoice.save(update_fields=["invoice_date", "due_date", "issued_by", "issued_at"])
            settlement_transition(
                invoice=invoice,
                to=S.ISSUED,
                actor=actor,
                reason="issued" + (" (ERS: the buyer self-bills)" if _ers(invoice) else ""),
            )
            settlement_event(event="settlement.issued", invoice_id=invoice.pk)
            invoice.refresh_from_db()
            audit_record(
                actor=actor,
                action="settlement.issue",
                object_type="settlement",
                object_id=invoice.pk,
                after={
                    "number": invoice.number,
                    "invoice_date": today,
                    "due_date": invoice.due_date,
                    "document": invoice.document_id,
                },
            )
    except SettlementDocumentInvalid as exc:
        invoice = SettlementInvoice.objects.select_related("buyer").get(pk=invoice_id)
        exception_raise(
            kind="document_invalid",
            partner=invoice.buyer,
            subject=f"810 for {invoice.number}",
            message=f"The 810 for {invoice.number} failed our validation, so it was not "
            "issued: " + "; ".join(exc.extra.get("errors", [])[:5]),
            action="Correct the data the errors name (item ids, partner profile) and issue "
            "the settlement again.",
            details={"errors": exc.extra.get("errors", [])},
        )
        raise
    return invoice


def _ers(invoice: SettlementInvoice) -> bool:
    return invoice.method == SettlementInvoice.Method.ERS
