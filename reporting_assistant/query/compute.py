"""Run a :class:`Query` through the finance and planning selectors the dashboard and the
API use (``figure_compute`` and ``costed_positions``), within the asker's scope, and give
the figure, its unit, the rows behind it and the date of the latest report it rests on.

Money is converted to the reporting currency asked for at the closing rate of the as-of
day: the configured reporting currency is the selectors' own ``value_closing``; another is
each currency's native amount times its closing rate to that currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings

from reporting_assistant.query.model import METRICS, Query
from smi_core.exceptions import ApplicationError
from smi_core.finance.formulas import money
from smi_core.models import AuditEvent, ExceptionItem, ReplenishmentProposal, StockLevel
from smi_core.selectors.finance import FinanceScope
from smi_core.selectors.finance.base import Filters, costed_positions
from smi_core.selectors.finance.figures import figure_compute
from smi_core.services.fx import RateBook

ZERO = Decimal(0)


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent form: 540, not 5.4E+2."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


@dataclass
class Result:
    value: Decimal | None
    unit: str  # a currency code, "units", "days", "weeks", "%", "" (ratio), "item-locations"
    rows: list[dict] = field(default_factory=list)
    latest: date | None = None
    note: str = ""  # why there is no value, or what the value leaves out
    rates: list[dict] = field(default_factory=list)
    figure: str = ""  # the registry figure computed (for its own facts), and with what
    data: dict | None = None
    params: dict | None = None
    narrowed: bool = False  # to items or locations: the figure's own totals do not apply
    # The value in another currency, stated after it: a figure the finance pages give in
    # its own currency (intercompany, in the agreement's) with its reporting-currency value.
    converted: tuple[Decimal, str] | None = None
    lines: list[str] = field(default_factory=list)  # sentences stated after the figure


def _params(query: Query, **extra) -> dict:
    params = {"as_of": query.as_of.isoformat()}
    if query.start:
        params["start"] = query.start.isoformat()
        params["end"] = (query.end or query.as_of).isoformat()
    supplier, buyer = query.key("supplier"), query.key("buyer")
    agreement = query.key("agreement")
    if agreement and not (supplier or buyer):
        from smi_core.models import SupplyAgreement

        found = (
            SupplyAgreement.objects.select_related("supplier", "buyer")
            .filter(code=agreement)
            .first()
        )
        if found:
            supplier, buyer = found.supplier.code, found.buyer.code
    if supplier:
        params["supplier"] = supplier
    if buyer:
        params["buyer"] = buyer
    if query.owner:
        params["owner"] = query.owner
    currency = query.key("currency")
    if currency:
        params["currency"] = currency
    return params | extra


def _latest(data: dict) -> date | None:
    days = [a["last_report"] for a in data.get("data_age") or [] if a.get("last_report")]
    return date.fromisoformat(max(days)) if days else None


def _convert(
    amount: Decimal, currency: str, target: str, day: date, book: RateBook, used: dict
) -> Decimal:
    """At the closing rate of ``day``; with no direct rate, through the configured
    reporting currency (EUR -> GBP -> USD)."""
    if currency == target:
        return amount
    try:
        rate = book.on(currency, target, day)
    except ApplicationError:
        via = settings.SMI_REPORTING_CURRENCY
        if via in (currency, target):
            raise
        return _convert(
            _convert(amount, currency, via, day, book, used), via, target, day, book, used
        )
    used[f"{currency}/{target}@{rate.date}"] = rate.as_dict()
    return amount * rate.rate


def _location_key(row_location: str) -> str:
    return row_location


def _row_ok(query: Query, item: str, location: str) -> bool:
    items = {n.key for n in query.named("item")}
    locations = {n.key for n in query.named("location")}
    return (not items or item in items) and (not locations or location in locations)


def _valuation(query: Query, scope: FinanceScope, figure_compute, *, units: bool) -> Result:
    reporting = settings.SMI_REPORTING_CURRENCY
    target = query.currency or reporting
    narrowed = bool(query.named("item") or query.named("location"))
    groups = list(
        dict.fromkeys(
            [
                *query.group_by,
                *(["item", "location"] if narrowed else []),
                "supplier",
                "owner",
                "currency",
            ]
        )
    )
    groups = [
        g for g in groups if g in ("item", "location", "supplier", "buyer", "currency", "owner")
    ]
    data = figure_compute(
        "valuation", scope=scope, params=_params(query, group_by=",".join(groups))
    )
    rows = [r for r in data["rows"] if _row_ok(query, r.get("item", ""), r.get("location", ""))]
    book, used = RateBook(), {}
    out = defaultdict(lambda: ZERO)
    total = ZERO
    for row in rows:
        if units:
            amount = Decimal(row["quantity"])
        elif target == reporting:
            amount = Decimal(row["value_closing"])
        else:
            amount = _convert(
                Decimal(row["value"]), row["currency"], target, query.as_of, book, used
            )
        total += amount
        label = " / ".join(str(row[g]) for g in query.group_by) if query.group_by else ""
        out[label] += amount
    if not units and target == reporting and not narrowed and not query.group_by:
        total = Decimal(data["total"]["value_closing"])
    value = plain(total) if units else money(total)
    table = [
        {"group": k, "value": str(plain(v) if units else money(v))}
        for k, v in sorted(out.items())
        if k
    ]
    note = ""
    if data.get("positions_without_cost"):
        note = (
            f"{len(data['positions_without_cost'])} item-locations without a unit cost are left out"
        )
    return Result(
        value,
        "units" if units else target,
        table,
        _latest(data),
        note,
        list(used.values()) or [r for row in rows for r in row.get("rates", [])][:4],
    )


def _stock(query: Query, scope: FinanceScope, field_name: str) -> Result:
    params = _params(query)
    filters = Filters(
        supplier=params.get("supplier"), buyer=params.get("buyer"), owner=params.get("owner")
    )
    rows = costed_positions(scope=scope, filters=filters, as_of=query.as_of)
    total = ZERO
    listed = []
    per = defaultdict(lambda: ZERO)
    latest = None
    for row in rows:
        p = row.position
        item, location = p.item.vendor_item, f"{p.location.party.code}/{p.location.code}"
        if not _row_ok(query, item, location):
            continue
        latest = max(latest, p.as_of) if latest else p.as_of
        if field_name == "out_of_stock":
            if p.on_hand <= 0:
                listed.append(
                    {"item": item, "location": location, "on_hand": str(plain(p.on_hand))}
                )
            continue
        amount = getattr(p, field_name)
        total += amount
        if query.group_by:
            key = " / ".join(
                {
                    "item": item,
                    "location": location,
                    "supplier": p.item.supplier.code,
                    "buyer": p.location.party.code,
                }.get(g, "")
                for g in query.group_by
            )
            per[key] += amount
    if field_name == "out_of_stock":
        listed.sort(key=lambda r: (r["item"], r["location"]))
        return Result(Decimal(len(listed)), "item-locations", listed, latest)
    table = [{"group": k, "value": str(plain(v))} for k, v in sorted(per.items())]
    return Result(plain(total), "units", table, latest)


def _scoped_levels(query: Query, scope: FinanceScope):
    qs = StockLevel.objects.all()
    if scope.party_ids is not None:
        qs = qs.filter(item__supplier_id__in=scope.party_ids) | qs.filter(
            location__party_id__in=scope.party_ids
        )
    params = _params(query)
    if params.get("supplier"):
        qs = qs.filter(item__supplier__code=params["supplier"])
    if params.get("buyer"):
        qs = qs.filter(location__party__code=params["buyer"])
    return qs


def _sold(query: Query, scope: FinanceScope) -> Result:
    """Units sold in the ledger's periods ending in [start, end] (the service report's
    rule), narrowed to items and locations when asked."""
    start, end = query.start or query.as_of, query.end or query.as_of
    rows = (
        _scoped_levels(query, scope)
        .filter(period_end__gte=start, period_end__lte=end)
        .values_list(
            "item__vendor_item", "location__party__code", "location__code", "sold", "period_end"
        )
    )
    total = ZERO
    per = defaultdict(lambda: ZERO)
    latest = None
    for item, buyer, code, sold, period_end in rows:
        location = f"{buyer}/{code}"
        if not _row_ok(query, item, location):
            continue
        total += sold or ZERO
        latest = max(latest, period_end) if latest else period_end
        if query.group_by:
            key = " / ".join(
                {
                    "item": item,
                    "location": location,
                    "buyer": buyer,
                    "week": period_end.isoformat(),
                }.get(g, "")
                for g in query.group_by
            )
            per[key] += sold or ZERO
    table = [{"group": k, "value": str(plain(v))} for k, v in sorted(per.items())]
    return Result(plain(total), "units", table, latest)


def _projected(query: Query, scope: FinanceScope) -> Result:
    qs = ExceptionItem.objects.filter(
        kind=ExceptionItem.Kind.PROJECTED_STOCKOUT, status=ExceptionItem.Status.OPEN
    ).select_related("item", "location", "location__party", "item__supplier")
    if scope.party_ids is not None:
        qs = qs.filter(item__supplier_id__in=scope.party_ids) | qs.filter(
            location__party_id__in=scope.party_ids
        )
    params = _params(query)
    if params.get("supplier"):
        qs = qs.filter(item__supplier__code=params["supplier"])
    if params.get("buyer"):
        qs = qs.filter(location__party__code=params["buyer"])
    listed = []
    for e in qs.order_by("item__vendor_item", "location__code"):
        if e.item is None or e.location is None:
            continue
        location = f"{e.location.party.code}/{e.location.code}"
        if _row_ok(query, e.item.vendor_item, location):
            listed.append(
                {"item": e.item.vendor_item, "location": location, "message": e.message[:160]}
            )
    return Result(Decimal(len(listed)), "item-locations", listed)


TURNOVER_KEYS = {
    "turnover": "turnover",
    "dio": "dio_days",
    "gmroi": "gmroi",
    "weeks_of_supply": "weeks_of_supply",
}
UNITS = {"turnover": "", "dio": "days", "gmroi": "", "weeks_of_supply": "weeks"}


def _converted_total(
    amounts: list[tuple[Decimal, str]], target: str, day: date
) -> tuple[Decimal, list]:
    book, used = RateBook(), {}
    total = sum((_convert(a, c, target, day, book, used) for a, c in amounts), ZERO)
    return money(total), list(used.values())


def query_run(query: Query, *, scope: FinanceScope) -> Result:
    """The figure of ``query``; ``figure``, ``data`` and ``params`` say which registry
    figure gave it, with what."""
    calls: list = []

    def compute(name: str, *, scope: FinanceScope, params: dict) -> dict:
        data = figure_compute(name, scope=scope, params=params)
        calls.append((name, data, params))
        return data

    result = _run(query, scope, compute)
    if calls:
        result.figure, result.data, result.params = calls[-1]
        result.narrowed = bool(query.named("item") or query.named("location"))
    return result


def _run(query: Query, scope: FinanceScope, figure_compute) -> Result:
    metric = METRICS[query.metric]
    reporting = settings.SMI_REPORTING_CURRENCY
    target = query.currency or reporting
    if query.metric in ("inventory_value", "exposure"):
        return _valuation(query, scope, figure_compute, units=False)
    if query.metric == "inventory_quantity":
        return _valuation(query, scope, figure_compute, units=True)
    if query.metric in ("on_hand", "on_order", "in_transit", "out_of_stock"):
        return _stock(query, scope, query.metric)
    if query.metric == "sold":
        return _sold(query, scope)
    if query.metric == "projected_stockouts":
        return _projected(query, scope)
    if query.metric in TURNOVER_KEYS:
        data = figure_compute("turnover", scope=scope, params=_params(query))
        raw = data["overall"][TURNOVER_KEYS[query.metric]]
        note = data["overall"].get("gmroi_reason") or "" if query.metric == "gmroi" else ""
        return Result(
            Decimal(raw) if raw is not None else None,
            UNITS[query.metric],
            [],
            _latest(data),
            note or "",
        )
    if query.metric == "working_capital":
        data = figure_compute("working-capital", scope=scope, params=_params(query))
        raw = data.get("released")
        if raw is None:
            return Result(None, target, [], _latest(data), data.get("note", ""))
        value, rates = _converted_total(
            [(Decimal(raw), data["reporting_currency"])], target, query.as_of
        )
        return Result(value, target, [], _latest(data), rates=rates)
    if query.metric == "cash_out":
        data = figure_compute(
            "cashflow", scope=scope, params=_params(query, weeks=str(query.weeks or 12))
        )
        value, rates = _converted_total(
            [(Decimal(data["total_reporting"]), data["reporting_currency"])], target, query.as_of
        )
        return Result(value, target, [], _latest(data), rates=rates)
    if query.metric == "owed":
        data = figure_compute("owed", scope=scope, params=_params(query))
        value, rates = _converted_total(
            [(Decimal(r["total"]), r["currency"]) for r in data["rows"]], target, query.as_of
        )
        rows = [
            {"group": f"{r['supplier']} {r['currency']}", "value": r["total"]} for r in data["rows"]
        ]
        return Result(value, target, rows, _latest(data), rates=rates)
    if query.metric == "fill_rate":
        data = figure_compute("service", scope=scope, params=_params(query))
        raw = data["overall"]["fill_rate"]
        return Result(
            (Decimal(raw) * 100).quantize(Decimal("0.01")) if raw else None,
            "%",
            [],
            _latest(data),
            "" if raw else "no sales or lost sales in the period",
        )
    if query.metric == "fx_adjustment":
        data = figure_compute("fx", scope=scope, params=_params(query))
        value, rates = _converted_total(
            [(Decimal(data["fx_gain_loss_total"]), data["reporting_currency"])], target, query.as_of
        )
        return Result(value, target, [], _latest(data), rates=rates)
    if query.metric == "intercompany":
        data = figure_compute("intercompany", scope=scope, params=_params(query))
        amounts = [(Decimal(r["unrealised_profit"]), r["currency"]) for r in data["rows"]]
        value, rates = _converted_total(amounts, target, query.as_of)
        rows = [
            {"group": r["agreement"], "value": r["unrealised_profit"], "currency": r["currency"]}
            for r in data["rows"]
        ]
        currencies = {currency for _, currency in amounts}
        if query.currency is None and len(currencies) == 1:
            # The elimination is booked in the agreement's currency and the finance figure
            # states it so: the answer too, with the reporting-currency value after it.
            (own,) = currencies
            total = money(sum((amount for amount, _ in amounts), ZERO))
            return Result(
                total,
                own,
                rows,
                _latest(data),
                rates=rates,
                converted=(value, target) if own != target else None,
            )
        return Result(value, target, rows, _latest(data), rates=rates)
    if query.metric == "approvals":
        return _approvals(query, scope)
    if metric.figure == "settlement":
        return _settlement(query, scope, figure_compute)
    raise KeyError(metric.name)


def _money_text(value: Decimal | str, currency: str) -> str:
    return f"{currency} {Decimal(value):,.2f}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _by_currency(rows: list[dict], name: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        out[row["currency"]] += Decimal(row[name])
    return dict(out)


def _settlement(query: Query, scope: FinanceScope, figure_compute) -> Result:
    """The settlement figure (``smi_core.selectors.finance.settlement``) at the as-of day:
    owed (with its age) and overdue per buyer and currency, cash received in the figure's
    window against what fell due and the forecast, DSO, realised FX; invoiced and paid over
    a period are the figure at the period's end less the figure the day before it starts."""
    reporting = settings.SMI_REPORTING_CURRENCY
    target = query.currency or reporting
    name = query.metric
    end = query.end or query.as_of
    params = {k: v for k, v in _params(query).items() if k not in ("start", "end")}
    before = None
    if name in ("invoiced", "paid") and query.start:
        day = query.start - timedelta(days=1)
        before = figure_compute(
            "settlement", scope=scope, params=params | {"as_of": day.isoformat()}
        )
    data = figure_compute("settlement", scope=scope, params=params | {"as_of": end.isoformat()})
    own = data["reporting_currency"]
    notes = [f"no rate for {m}" for m in data.get("missing_rates") or ()][:2]
    if name in ("receivable", "overdue"):
        field_name = "owed" if name == "receivable" else "overdue"
        amounts = [(Decimal(r[field_name]), r["currency"]) for r in data["rows"]]
        if target == own and not data.get("missing_rates"):
            value, rates = Decimal(data["total_reporting"][field_name]), data["rates"]
        else:
            value, rates = _converted_total(amounts, target, end)
        rows, lines = [], []
        for r in data["rows"]:
            if Decimal(r[field_name]) == 0 and name == "overdue":
                continue
            aged = [
                f"{'not yet due' if label == 'current' else label + ' days late'} "
                f"{_money_text(r[key], r['currency'])}"
                for label, key in data["buckets"].items()
                if Decimal(r[key]) and (name == "receivable" or label != "current")
            ]
            rows.append(
                {
                    "buyer": r["buyer"],
                    "supplier": r["supplier"],
                    "currency": r["currency"],
                    field_name: r[field_name],
                    **{label: r[key] for label, key in data["buckets"].items()},
                }
            )
            lines.append(
                f"{r['buyer']} to {r['supplier']}: {_money_text(r[field_name], r['currency'])}"
                + (f" ({', '.join(aged)})" if aged else "")
            )
        result = Result(value, target, rows, None, "; ".join(notes), rates)
        if lines:
            result.lines.append("By buyer and currency: " + "; ".join(lines) + ".")
        if name == "overdue":
            late = _overdue_invoices(scope, params, end)
            if late:
                result.lines.append(
                    "Overdue invoices: "
                    + "; ".join(
                        f"{i['invoice']} ({i['buyer']}, due {i['due']}, {_days(i['days'])} late): "
                        f"{_money_text(i['open'], i['currency'])} open"
                        for i in late[:10]
                    )
                    + (f" and {len(late) - 10} more" if len(late) > 10 else "")
                    + "."
                )
        return result
    if name in ("invoiced", "paid"):
        now = _by_currency(data["rows"], name)
        earlier = _by_currency(before["rows"], name) if before else {}
        per = {c: now.get(c, ZERO) - earlier.get(c, ZERO) for c in sorted({*now, *earlier})}
        value, rates = _converted_total([(a, c) for c, a in per.items()], target, end)
        rows = [{"currency": c, name: str(money(a))} for c, a in per.items()]
        lines = []
        if len(per) > 1 or (per and next(iter(per)) != target):
            lines.append(
                "In their own currencies: "
                + "; ".join(_money_text(a, c) for c, a in per.items())
                + "."
            )
        return Result(value, target, rows, None, "; ".join(notes), rates, lines=lines)
    if name == "cash_in":
        cash = data["cash"]["by_currency"]
        value, rates = _converted_total(
            [(Decimal(v["received"]), c) for c, v in cash.items()], target, end
        )
        rows = [{"currency": c, **v} for c, v in cash.items()]
        lines = [
            f"{c}: received {_money_text(v['received'], c)} against {_money_text(v['due'], c)} due"
            + (
                f" and {_money_text(v['forecast'], c)} forecast"
                if v.get("forecast") is not None
                else ""
            )
            for c, v in cash.items()
        ]
        reason = data["cash"].get("forecast_reason")
        if reason:
            notes.append(reason)
        return Result(
            value,
            target,
            rows,
            None,
            "; ".join(notes),
            rates,
            lines=["; ".join(lines) + "."] if lines else [],
        )
    if name == "dso":
        dso = data["dso"]["by_currency"]
        rows = [{"currency": c, **v} for c, v in dso.items()]
        lines = [
            f"{c}: {Decimal(v['dso_days']).quantize(Decimal('0.01'))} days "
            f"(owed {_money_text(v['owed'], c)} / invoiced {_money_text(v['invoiced'], c)} "
            f"in the {data['dso']['days']} days to {end.isoformat()} x {data['dso']['days']})"
            if v["dso_days"] is not None
            else f"{c}: — ({v['reason']})"
            for c, v in dso.items()
        ]
        if len(dso) == 1:
            (only,) = dso.values()
            value = Decimal(only["dso_days"]) if only["dso_days"] is not None else None
            note = only["reason"] or ""
        else:
            value = None
            note = "DSO is worked out per currency" if dso else "nothing invoiced"
        return Result(
            value, "days", rows, None, note, lines=["; ".join(lines) + "."] if lines else []
        )
    if name == "realised_fx":
        fx = data["realised_fx"]
        value, rates = _converted_total([(Decimal(fx["total"]), fx["currency"])], target, end)
        rows = fx["payments"]
        lines = [
            f"{p['invoice']} ({p['buyer']}): {_money_text(p['paid'], p['currency'])} paid on "
            f"{p['payment_date']}, {_money_text(p['at_invoice_rate'], fx['currency'])} at "
            f"{Decimal(p['invoice_rate']['rate']).normalize()} of {p['invoice_rate']['date']} "
            f"against {_money_text(p['at_payment_rate'], fx['currency'])} at "
            f"{Decimal(p['payment_rate']['rate']).normalize()} of {p['payment_rate']['date']}: "
            f"{_money_text(p['gain_loss'], fx['currency'])}"
            if p.get("gain_loss") is not None
            else f"{p['invoice']}: — ({p['reason']})"
            for p in rows[:10]
        ]
        if not rows:
            notes.append("no foreign-currency settlement was paid by then")
        return Result(
            value,
            target,
            rows,
            None,
            "; ".join(notes),
            rates,
            lines=["; ".join(lines) + "."] if lines else [],
        )
    raise KeyError(name)


def _overdue_invoices(scope: FinanceScope, params: dict, day: date) -> list[dict]:
    """The settlements past due at ``day`` with something open then (payments dated on or
    before it), oldest due first: the documents behind the overdue figure."""
    from smi_core.selectors.finance.settlement import ISSUED, settlements_list

    qs = (
        settlements_list(scope=scope, buyer=params.get("buyer"))
        .filter(status__in=ISSUED, invoice_date__lte=day, due_date__lt=day)
        .prefetch_related("payments__remittance")
    )
    if params.get("supplier"):
        qs = qs.filter(supplier__code=params["supplier"])
    if params.get("currency"):
        qs = qs.filter(currency=params["currency"])
    out = []
    for invoice in qs:
        paid = sum(
            (p.paid for p in invoice.payments.all() if p.remittance.payment_date <= day), ZERO
        )
        open_ = invoice.total - paid
        if open_ > 0:
            out.append(
                {
                    "invoice": invoice.number,
                    "buyer": invoice.buyer.code,
                    "currency": invoice.currency,
                    "due": invoice.due_date.isoformat(),
                    "days": (day - invoice.due_date).days,
                    "open": money(open_),
                }
            )
    return sorted(out, key=lambda i: (i["due"], i["invoice"]))


def _approvals(query: Query, scope: FinanceScope) -> Result:
    start, end = query.start, query.end or query.as_of
    qs = scope.proposals(ReplenishmentProposal.objects.all())
    params = _params(query)
    if params.get("supplier"):
        qs = qs.filter(supplier__code=params["supplier"])
    if params.get("buyer"):
        qs = qs.filter(buyer__code=params["buyer"])
    ids = {str(pk) for pk in qs.values_list("pk", flat=True)}
    events = AuditEvent.objects.filter(object_type="proposal", action="proposal.approve")
    rows = []
    for event in events.order_by("at"):
        day = event.at.date()
        if event.object_id in ids and (start is None or day >= start) and day <= end:
            rows.append(
                {
                    "proposal": event.object_id,
                    "approver": event.actor,
                    "at": event.at.isoformat(timespec="seconds"),
                }
            )
    return Result(Decimal(len(rows)), "approved orders", rows)
