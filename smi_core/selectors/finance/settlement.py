"""Settlement figures at a date (reads): what buyers were invoiced for consigned stock they
consumed, what they paid (820 remittances), what they owe and how late, cash received
against what fell due, days sales outstanding, and the realised FX on foreign-currency
payments. From the supplier's side: a receivable.

At ``as_of``: a settlement counts once issued on or before it (credit memos negative), a
payment once its payment date is on or before it. Age is days past the due date:
current (not yet due), 1-30, 31-60, 61-90, over 90.

- Cash: over the 30 days to ``as_of``, what fell due (settlements due in the window) and
  what was received (payments dated in it), per currency.
- DSO = owed at ``as_of`` / invoiced over the 90 days to it x 90 (per currency).
- Realised FX (IAS 21): each payment of a foreign-currency settlement converted at the
  payment date's rate against the invoice date's; positive is a gain for the supplier
  (EUR 1,000 invoiced at 1.10 and paid at 1.15: USD 1,150 - 1,100 = 50 gain).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q

from smi_core.finance.formulas import money, ratio, receivable_remeasure
from smi_core.models import PaymentApplication, SettlementInvoice
from smi_core.selectors.finance.base import AgedRateBook, Filters, FinanceScope, reporting_currency
from smi_core.services.fx import MissingRate

ZERO = Decimal(0)
S = SettlementInvoice.Status
ISSUED = (S.ISSUED, S.PARTIALLY_PAID, S.PAID)
BUCKETS = ("current", "1-30", "31-60", "61-90", "over 90")
BUCKET_KEYS = {b: "aged_" + b.replace("-", "_").replace(" ", "_") for b in BUCKETS}
CASH_WINDOW_DAYS = 30
DSO_DAYS = 90


def bucket_for(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1-30"
    if days_overdue <= 60:
        return "31-60"
    if days_overdue <= 90:
        return "61-90"
    return "over 90"


def _documents(scope: FinanceScope, filters: Filters, as_of: date):
    qs = SettlementInvoice.objects.filter(
        status__in=ISSUED, invoice_date__isnull=False, invoice_date__lte=as_of
    ).select_related("buyer", "supplier")
    if scope.party_ids is not None:
        qs = qs.filter(Q(buyer_id__in=scope.party_ids) | Q(supplier_id__in=scope.party_ids))
    if filters.supplier:
        qs = qs.filter(supplier__code=filters.supplier)
    if filters.buyer:
        qs = qs.filter(buyer__code=filters.buyer)
    if filters.currency:
        qs = qs.filter(currency=filters.currency)
    return qs.order_by("invoice_date", "pk")


def _payments(documents, as_of: date):
    return (
        PaymentApplication.objects.filter(
            invoice__in=documents, remittance__payment_date__lte=as_of
        )
        .select_related("remittance", "invoice")
        .order_by("remittance__payment_date", "pk")
    )


def _text(value: Decimal) -> str:
    return str(money(value))


def settlement_figures(*, scope: FinanceScope, filters: Filters, as_of: date) -> dict:
    documents = list(_documents(scope, filters, as_of))
    payments = list(_payments([d.pk for d in documents], as_of))
    paid_by_doc: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for p in payments:
        paid_by_doc[p.invoice_id] += p.paid
    target = reporting_currency()
    rates = AgedRateBook()
    window_start = as_of - timedelta(days=CASH_WINDOW_DAYS - 1)
    dso_start = as_of - timedelta(days=DSO_DAYS - 1)

    rows: dict[tuple[str, str, str], dict] = {}
    cash: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"due": ZERO, "received": ZERO})
    dso_parts: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"owed": ZERO, "sales": ZERO})
    for doc in documents:
        key = (doc.buyer.code, doc.supplier.code, doc.currency)
        row = rows.setdefault(
            key,
            {
                "buyer": doc.buyer.code,
                "supplier": doc.supplier.code,
                "currency": doc.currency,
                "invoiced": ZERO,
                "paid": ZERO,
                "owed": ZERO,
                "overdue": ZERO,
                "documents": 0,
                **{key: ZERO for key in BUCKET_KEYS.values()},
            },
        )
        owed = doc.total - paid_by_doc[doc.pk]
        row["invoiced"] += doc.total
        row["paid"] += paid_by_doc[doc.pk]
        row["owed"] += owed
        row["documents"] += 1
        days_overdue = (as_of - doc.due_date).days if doc.due_date else 0
        row[BUCKET_KEYS[bucket_for(days_overdue)]] += owed
        if days_overdue > 0:
            row["overdue"] += owed
        if doc.due_date and window_start <= doc.due_date <= as_of:
            cash[doc.currency]["due"] += doc.total
        dso_parts[doc.currency]["owed"] += owed
        if doc.invoice_date >= dso_start:
            dso_parts[doc.currency]["sales"] += doc.total
    for p in payments:
        if p.remittance.payment_date >= window_start:
            cash[p.invoice.currency]["received"] += p.paid
    forecast, forecast_reason = _forecast_cash_in(scope, filters, window_start, as_of)
    for currency, amount in forecast.items():
        cash[currency]["forecast"] = cash[currency].get("forecast", ZERO) + amount

    totals = {"owed": ZERO, "overdue": ZERO}
    used_rates: dict[str, dict] = {}
    missing: list[str] = []
    for row in rows.values():
        try:
            rate = rates.on(row["currency"], target, as_of)
        except MissingRate as exc:
            missing.append(exc.message)
            row["rate"] = None
            continue
        row["rate"] = rate.as_dict()
        used_rates[row["currency"]] = rate.as_dict()
        totals["owed"] += money(row["owed"] * rate.rate)
        totals["overdue"] += money(row["overdue"] * rate.rate)

    realised = _realised_fx(payments, target, rates, missing)
    return {
        "as_of": as_of.isoformat(),
        "direction": "receivable for the supplier, payable for the buyer",
        "reporting_currency": target,
        "buckets": BUCKET_KEYS,
        "rows": [
            {
                k: (_text(v) if isinstance(v, Decimal) else v)
                for k, v in sorted(row.items(), key=lambda kv: _order(kv[0]))
            }
            for _, row in sorted(rows.items())
        ],
        "total_reporting": {k: _text(v) for k, v in totals.items()},
        "cash": {
            "window": [window_start.isoformat(), as_of.isoformat()],
            "by_currency": {
                c: {
                    "due": _text(v["due"]),
                    "received": _text(v["received"]),
                    "difference": _text(v["received"] - v["due"]),
                    "forecast": _text(v.get("forecast", ZERO)) if forecast_reason is None else None,
                    "received_vs_forecast": _text(v["received"] - v.get("forecast", ZERO))
                    if forecast_reason is None
                    else None,
                }
                for c, v in sorted(cash.items())
            },
            "forecast_made": window_start.isoformat(),
            "forecast_reason": forecast_reason,
        },
        "dso": {
            "days": DSO_DAYS,
            "by_currency": {
                c: {
                    "owed": _text(v["owed"]),
                    "invoiced": _text(v["sales"]),
                    "dso_days": str(ratio(v["owed"] / v["sales"] * DSO_DAYS))
                    if v["sales"] > 0
                    else None,
                    "reason": None if v["sales"] > 0 else f"nothing invoiced in {DSO_DAYS} days",
                }
                for c, v in sorted(dso_parts.items())
            },
        },
        "realised_fx": realised,
        "rates": sorted(used_rates.values(), key=lambda r: r["pair"]),
        "rate_warnings": rates.warnings(),
        "missing_rates": missing,
    }


def _forecast_cash_in(
    scope: FinanceScope, filters: Filters, start: date, end: date
) -> tuple[dict[str, Decimal], str | None]:
    """The cash-in for consigned goods the cash forecast expected, as made on ``start``,
    falling due in [start, end], per currency (the forecast pays each week's consumption
    its payment days after the week, where settlement bills a cycle at once)."""
    from smi_core.exceptions import ApplicationError
    from smi_core.selectors.finance.cashflow import cash_forecast

    weeks = (end - start).days // 7 + 2
    try:
        made = cash_forecast(scope=scope, filters=filters, as_of=start, weeks=weeks)
    except ApplicationError as exc:
        return {}, f"the cash forecast as of {start} could not be made: {exc.message}"
    expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for entry in made["items"]:
        if entry["kind"] in ("consumed", "consumption") and (
            start.isoformat() <= entry["due"] <= end.isoformat()
        ):
            expected[entry["currency"]] += Decimal(entry["amount"])
    return dict(expected), None


_ORDER = [
    "buyer",
    "supplier",
    "currency",
    "documents",
    "invoiced",
    "paid",
    "owed",
    "overdue",
    *BUCKET_KEYS.values(),
]


def _order(key: str) -> int:
    return _ORDER.index(key) if key in _ORDER else len(_ORDER)


def _realised_fx(payments, target: str, rates: AgedRateBook, missing: list[str]) -> dict:
    rows = []
    total = ZERO
    for p in payments:
        invoice = p.invoice
        if invoice.currency == target or p.paid == 0:
            continue
        paid_on = p.remittance.payment_date
        try:
            booked = rates.on(invoice.currency, target, invoice.invoice_date)
            settled = rates.on(invoice.currency, target, paid_on)
        except MissingRate as exc:
            missing.append(exc.message)
            rows.append(
                {
                    "invoice": invoice.number,
                    "paid": _text(p.paid),
                    "currency": invoice.currency,
                    "payment_date": paid_on.isoformat(),
                    "gain_loss": None,
                    "reason": exc.message,
                }
            )
            continue
        result = receivable_remeasure(
            amount_foreign=p.paid, historical_rate=booked.rate, closing_rate=settled.rate
        )
        total += result.fx_gain_loss
        rows.append(
            {
                "invoice": invoice.number,
                "buyer": invoice.buyer.code,
                "currency": invoice.currency,
                "paid": _text(p.paid),
                "invoice_date": invoice.invoice_date.isoformat(),
                "payment_date": paid_on.isoformat(),
                "invoice_rate": booked.as_dict(),
                "payment_rate": settled.as_dict(),
                "at_invoice_rate": _text(result.booked),
                "at_payment_rate": _text(result.remeasured),
                "gain_loss": _text(result.fx_gain_loss),
            }
        )
    return {"currency": target, "total": _text(total), "payments": rows}


# -- settlements as records (the API and the command line) ---------------------------------


def settlements_list(*, scope: FinanceScope, status: str | None = None, buyer: str | None = None):
    qs = SettlementInvoice.objects.select_related("buyer", "supplier", "agreement", "original")
    if scope.party_ids is not None:
        qs = qs.filter(Q(buyer_id__in=scope.party_ids) | Q(supplier_id__in=scope.party_ids))
    if status:
        qs = qs.filter(status=status)
    if buyer:
        qs = qs.filter(buyer__code=buyer)
    return qs.order_by("-cycle_start", "-pk")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def settlement_as_dict(invoice: SettlementInvoice, *, lines: bool = False) -> dict:
    data = {
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "method": invoice.method,
        "status": invoice.status,
        "agreement": invoice.agreement.code,
        "buyer": invoice.buyer.code,
        "supplier": invoice.supplier.code,
        "original": invoice.original.number if invoice.original_id else None,
        "cycle_start": _day(invoice.cycle_start),
        "cycle_end": _day(invoice.cycle_end),
        "invoice_date": _day(invoice.invoice_date),
        "due_date": _day(invoice.due_date),
        "currency": invoice.currency,
        "total": str(invoice.total),
        "paid": str(invoice.paid),
        "balance": str(invoice.balance),
        "document": invoice.document_id,
        "notes": invoice.notes,
        "source_sets": invoice.source_sets,
    }
    if lines:
        data["lines"] = [
            {
                "line": ln.line_number,
                "item": ln.item.vendor_item,
                "location": ln.location.code,
                "quantity": f"{ln.quantity.normalize():f}",
                "unit": ln.unit,
                "unit_price": str(ln.unit_price),
                "amount": str(ln.amount),
                "basis": ln.basis,
                "source_sets": ln.source_sets,
            }
            for ln in invoice.lines.select_related("item", "location").order_by("line_number")
        ]
        data["payments"] = [
            {
                "trace": p.remittance.trace_number,
                "payment_date": _day(p.remittance.payment_date),
                "paid": str(p.paid),
                "matched_by": p.matched_by,
                "adjustments": p.adjustments,
            }
            for p in invoice.payments.select_related("remittance").order_by("pk")
        ]
    return data
