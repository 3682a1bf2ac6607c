"""Inventory value at cost, per item, location, supplier, buyer, currency and owner; the
historical-rate versus closing-rate view with the lower-of-cost-or-NRV test; foreign
currency invoices remeasured; the intercompany profit elimination.

Each row states the rates it used and their dates. The historical rate of a position is
the rate on the day its stock was last received (852 QR) on or before ``as_of``, or, with
no receipt reported, the first day the buyer reported it; the closing rate is the rate on
``as_of``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from smi_core.finance.formulas import (
    intercompany_elimination,
    money,
    nrv_write_down,
    payable_remeasure,
    receivable_remeasure,
)
from smi_core.models import ReplenishmentProposal, ShipmentLine
from smi_core.selectors.finance.base import (
    ZERO,
    AgedRateBook,
    CostedPosition,
    Filters,
    FinanceScope,
    costed_positions,
    data_age,
    distinct_rates,
    reporting_currency,
    stale_partners,
    without_cost,
)

GROUPS = ("item", "location", "supplier", "buyer", "currency", "owner")
NOT_TESTED = "not tested (no selling price)"


def _nrv_status(tested: int, positions: int) -> str:
    """Whether the lower-of-cost-and-NRV test ran: without a net selling price it cannot,
    and a write-down of 0.00 would wrongly read as passed."""
    if tested == positions:
        return "tested"
    if tested == 0:
        return NOT_TESTED
    return f"tested for {tested} of {positions} positions; {NOT_TESTED} for the rest"


def _ages(rows: list[CostedPosition], as_of: date) -> dict:
    """How old each reporting partner's data is at ``as_of``, and which are stale."""
    ages = data_age(rows, as_of)
    return {"data_age": ages, "stale_partners": stale_partners(ages)}


@dataclass(slots=True)
class ValuedPosition:
    costed: CostedPosition
    quantity: Decimal
    value: Decimal | None  # in the agreement's currency
    historical_date: date
    historical_rate: dict
    closing_rate: dict
    value_historical: Decimal | None  # reporting currency
    value_closing: Decimal | None
    nrv: Decimal | None  # reporting currency, at the closing rate
    write_down: Decimal

    def keys(self) -> dict:
        p = self.costed.position
        return {
            "item": p.item.vendor_item,
            "location": f"{p.location.party.code}/{p.location.code}",
            "supplier": p.item.supplier.code,
            "buyer": p.location.party.code,
            "currency": self.costed.currency,
            "owner": f"{self.costed.owner_kind}:{self.costed.owner.code}",
        }


class _RateDicts:
    """Each rate's ``as_dict`` made once per (currency, day), not once per position."""

    def __init__(self, rates: AgedRateBook, target: str) -> None:
        self.rates, self.target = rates, target
        self._seen: dict[tuple[str, date], tuple] = {}

    def on(self, currency: str, day: date) -> tuple:
        """(rate, its dict)."""
        key = (currency, day)
        found = self._seen.get(key)
        if found is None:
            rate = self.rates.on(currency, self.target, day)
            found = self._seen[key] = (rate.rate, rate.as_dict())
        return found


class _GroupKeys:
    """A valued position's group key (``ValuedPosition.keys`` for the fields grouped by),
    with each item's and location's parts worked out once."""

    def __init__(self, group_by: tuple[str, ...]) -> None:
        self.group_by = group_by
        self._items: dict[int, tuple[str, str]] = {}
        self._locations: dict[int, tuple[str, str]] = {}
        self._owners: dict[tuple, str] = {}

    def __call__(self, row: ValuedPosition) -> tuple:
        p = row.costed.position
        item = self._items.get(p.item_id)
        if item is None:
            item = self._items[p.item_id] = (p.item.vendor_item, p.item.supplier.code)
        location = self._locations.get(p.location_id)
        if location is None:
            party = p.location.party.code
            location = self._locations[p.location_id] = (f"{party}/{p.location.code}", party)
        parts = {"item": item[0], "supplier": item[1], "location": location[0]}
        parts["buyer"] = location[1]
        if "currency" in self.group_by:
            parts["currency"] = row.costed.currency
        if "owner" in self.group_by:
            consigned = row.costed.consignment
            who = (consigned, p.item_id if consigned else p.location_id)
            owner = self._owners.get(who)
            if owner is None:
                owner = self._owners[who] = f"{row.costed.owner_kind}:{row.costed.owner.code}"
            parts["owner"] = owner
        return tuple(parts[g] for g in self.group_by)


def valued_positions(
    *, scope: FinanceScope, filters: Filters, as_of: date, rates: AgedRateBook | None = None
) -> list[ValuedPosition]:
    rates = rates or AgedRateBook()
    dicts = _RateDicts(rates, reporting_currency())
    rows = costed_positions(scope=scope, filters=filters, as_of=as_of)
    out = []
    for row in rows:
        p = row.position
        quantity = p.on_hand if p.on_hand >= ZERO else ZERO  # negative: valued at zero (listed)
        historical_day = row.stock_since or as_of
        currency = row.currency
        historical, historical_dict = dicts.on(currency, historical_day)
        closing, closing_dict = dicts.on(currency, as_of)
        value = value_historical = value_closing = nrv = write_down = None
        if row.unit_cost is not None:
            value = money(quantity * row.unit_cost)
            value_historical = money(value * historical)
            value_closing = money(value * closing)
            if row.net_selling_price is not None:
                _, nrv, write_down = nrv_write_down(
                    cost_foreign=quantity * row.unit_cost,
                    historical_rate=historical,
                    nrv_foreign=quantity * row.net_selling_price,
                    closing_rate=closing,
                )
        out.append(
            ValuedPosition(
                row,
                quantity,
                value,
                historical_day,
                historical_dict,
                closing_dict,
                value_historical,
                value_closing,
                nrv,
                write_down if write_down is not None else ZERO,
            )
        )
    return out


def valuation(
    *,
    scope: FinanceScope,
    filters: Filters,
    as_of: date,
    group_by: tuple[str, ...] = ("supplier", "owner", "currency"),
) -> dict:
    """Inventory value at cost grouped by ``group_by`` (any of GROUPS), in each group's
    own currency when it has one, and in the reporting currency at the historical and at
    the closing rate, with the write-down the NRV test calls for."""
    unknown = set(group_by) - set(GROUPS)
    if unknown:
        from smi_core.exceptions import ApplicationError

        raise ApplicationError(
            f"group_by takes {', '.join(GROUPS)}, not {', '.join(sorted(unknown))}",
            code="bad_group_by",
        )
    rates = AgedRateBook()
    rows = valued_positions(scope=scope, filters=filters, as_of=as_of, rates=rates)
    groups: dict[tuple, dict] = {}
    missing_cost = []
    negative = []
    key_of = _GroupKeys(group_by)
    for row in rows:
        p = row.costed.position
        if p.on_hand < 0:
            negative.append(
                row.keys()
                | {
                    "on_hand": str(p.on_hand),
                    "valued_quantity": "0",
                    "reported_on": p.as_of.isoformat(),
                }
            )
        if row.value is None:
            missing_cost.append(
                row.keys()
                | {
                    "quantity": str(row.quantity),
                    "reason": "no unit cost in the agreement's terms: left out of the value",
                }
            )
            continue
        key = key_of(row)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                **dict(zip(group_by, key, strict=True)),
                "currencies": set(),
                "quantity": ZERO,
                "value": ZERO,
                "value_historical": ZERO,
                "value_closing": ZERO,
                "write_down": ZERO,
                "positions": 0,
                "nrv_tested": 0,
                "rates": {},
            }
        group["currencies"].add(row.costed.currency)
        group["quantity"] += row.quantity
        group["value"] += row.value
        group["value_historical"] += row.value_historical
        group["value_closing"] += row.value_closing
        group["write_down"] += row.write_down
        group["nrv_tested"] += row.nrv is not None
        group["positions"] += 1
        # The rates by their dict (one per currency and day), named once per group below.
        group["rates"][id(row.historical_rate)] = row.historical_rate
        group["rates"][id(row.closing_rate)] = row.closing_rate
    for group in groups.values():
        group["rates"] = {
            f"{rate['pair']}@{rate['date']}": rate
            for rate in group["rates"].values()
            if rate["date"]
        }
    result = []
    for group in groups.values():
        currencies = sorted(group.pop("currencies"))
        group["nrv_status"] = _nrv_status(group.pop("nrv_tested"), group["positions"])
        single = currencies[0] if len(currencies) == 1 else None
        result.append(
            {
                **group,
                "currency_of_value": single,
                "value": str(group["value"]) if single else None,
                "quantity": str(group["quantity"]),
                "value_historical": str(money(group["value_historical"])),
                "value_closing": str(money(group["value_closing"])),
                "write_down": str(money(group["write_down"])),
                "rates": sorted(group["rates"].values(), key=lambda r: (r["pair"], r["date"])),
            }
        )
    total = {
        "value_historical": str(money(sum((r.value_historical or ZERO for r in rows), ZERO))),
        "value_closing": str(money(sum((r.value_closing or ZERO for r in rows), ZERO))),
        "write_down": str(money(sum((r.write_down for r in rows), ZERO))),
        "nrv_status": _nrv_status(sum(1 for r in rows if r.nrv is not None), len(rows)),
    }
    return {
        "as_of": as_of.isoformat(),
        "reporting_currency": reporting_currency(),
        "group_by": list(group_by),
        "rows": sorted(result, key=lambda r: tuple(str(r[g]) for g in group_by)),
        "total": total,
        "positions_without_cost": missing_cost,
        "negative_on_hand": negative,
        "rate_warnings": rates.warnings(),
        **_ages([r.costed for r in rows], as_of),
    }


def fx_adjustments(*, scope: FinanceScope, filters: Filters, as_of: date) -> dict:
    """Per foreign currency: inventory at the historical rate, NRV at the closing rate and
    the write-down (inventory is never revalued upwards), with the rates used; and invoices
    for delivered orders not yet due, booked at the rate of the ship date and remeasured at
    the closing rate, with the FX gain or loss. ``rates``: every rate used, with its date."""
    rates = AgedRateBook()
    target = reporting_currency()
    inventory: dict[str, dict] = defaultdict(
        lambda: {"cost_historical": ZERO, "value_closing": ZERO, "nrv": ZERO, "write_down": ZERO}
    )
    tested: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # [tested, positions]
    inventory_rates: dict[str, list[dict]] = defaultdict(list)
    valued = valued_positions(scope=scope, filters=filters, as_of=as_of, rates=rates)
    for row in valued:
        if row.costed.currency == target or row.value is None:
            continue
        entry = inventory[row.costed.currency]
        entry["cost_historical"] += row.value_historical
        entry["value_closing"] += row.value_closing
        entry["nrv"] += row.nrv or ZERO
        tested[row.costed.currency][0] += row.nrv is not None
        tested[row.costed.currency][1] += 1
        entry["write_down"] += row.write_down
        inventory_rates[row.costed.currency] += [row.historical_rate, row.closing_rate]
    invoices = []
    for order, amount, shipped_on in _open_invoices(scope=scope, filters=filters, as_of=as_of):
        if order.currency == target:
            continue
        booked = rates.on(order.currency, target, shipped_on)
        closing = rates.on(order.currency, target, as_of)
        remeasured = payable_remeasure(
            amount_foreign=amount, historical_rate=booked.rate, closing_rate=closing.rate
        )
        receivable = receivable_remeasure(
            amount_foreign=amount, historical_rate=booked.rate, closing_rate=closing.rate
        )
        invoices.append(
            {
                "po_number": order.po_number,
                "supplier": order.supplier.code,
                "buyer": order.buyer.code,
                "currency": order.currency,
                "amount": str(amount),
                "booked": str(remeasured.booked),
                "booked_rate": booked.as_dict(),
                "remeasured": str(remeasured.remeasured),
                "closing_rate": closing.as_dict(),
                "fx_gain_loss": str(remeasured.fx_gain_loss),
                "buyer_fx_gain_loss": str(remeasured.fx_gain_loss),
                "seller_fx_gain_loss": str(receivable.fx_gain_loss),
            }
        )
    inventory_rows = [
        {
            "currency": currency,
            **{k: str(money(v)) for k, v in entry.items()},
            "rates": distinct_rates(inventory_rates[currency]),
            "nrv_status": _nrv_status(*tested[currency]),
        }
        | ({"nrv": NOT_TESTED} if tested[currency][0] == 0 else {})
        for currency, entry in sorted(inventory.items())
    ]
    return {
        "as_of": as_of.isoformat(),
        "reporting_currency": target,
        "inventory": inventory_rows,
        "invoices": invoices,
        "fx_gain_loss_total": str(sum((Decimal(i["fx_gain_loss"]) for i in invoices), ZERO)),
        "fx_gain_loss_of": "buyer: the invoice is a payable (the seller's gain is the opposite)",
        "seller_fx_gain_loss_total": str(
            sum((Decimal(i["seller_fx_gain_loss"]) for i in invoices), ZERO)
        ),
        "rate_warnings": rates.warnings(),
        "left_out_no_cost": without_cost([v.costed for v in valued if v.costed.currency != target]),
        **_ages([v.costed for v in valued], as_of),
        "rates": distinct_rates(
            [rate for row in inventory_rows for rate in row["rates"]]
            + [i[k] for i in invoices for k in ("booked_rate", "closing_rate")]
        ),
    }


def _open_invoices(*, scope: FinanceScope, filters: Filters, as_of: date):
    """(order, amount in its currency, ship date) for shipped goods not yet due for payment
    on ``as_of`` (ship date + payment terms after it)."""
    P = ReplenishmentProposal.Status
    orders = scope.proposals(
        ReplenishmentProposal.objects.filter(status__in=[P.SHIPPED, P.RECEIVED]).select_related(
            "agreement", "supplier", "buyer"
        )
    )
    if filters.supplier:
        orders = orders.filter(supplier__code=filters.supplier)
    if filters.buyer:
        orders = orders.filter(buyer__code=filters.buyer)
    if filters.currency:
        orders = orders.filter(currency=filters.currency)
    for order in orders:
        lines = ShipmentLine.objects.filter(order_line__proposal=order).select_related(
            "pack__shipment", "order_line"
        )
        amount = ZERO
        shipped_on = None
        for line in lines:
            amount += line.quantity * line.order_line.unit_cost
            day = line.pack.shipment.ship_date
            shipped_on = day if shipped_on is None or day > shipped_on else shipped_on
        if shipped_on is None or shipped_on > as_of:
            continue
        due = shipped_on + timedelta(days=order.agreement.payment_terms_days)
        if due >= as_of:
            yield order, money(amount), shipped_on


def intercompany(*, scope: FinanceScope, filters: Filters, as_of: date) -> dict:
    """Unrealised intercompany profit in ending inventory, per intercompany agreement, and
    the elimination entry (Dr COGS / Cr Inventory) in the agreement's currency."""
    per_agreement: dict[int, dict] = {}
    costed = costed_positions(scope=scope, filters=filters, as_of=as_of)
    for row in costed:
        agreement = row.agreement
        if agreement is None or not agreement.intercompany or row.unit_cost is None:
            continue
        entry = per_agreement.setdefault(agreement.pk, {"agreement": agreement, "inventory": ZERO})
        entry["inventory"] += max(row.position.on_hand, ZERO) * row.unit_cost
    rows = []
    for entry in per_agreement.values():
        agreement = entry["agreement"]
        margin = agreement.seller_gross_margin or ZERO
        elimination = intercompany_elimination(
            inventory_on_hand=entry["inventory"], seller_gross_margin=margin
        )
        rows.append(
            {
                "agreement": agreement.code,
                "seller": agreement.supplier.code,
                "buyer": agreement.buyer.code,
                "currency": agreement.currency,
                "seller_gross_margin": str(margin),
                "intercompany_inventory": str(elimination.inventory),
                "unrealised_profit": str(elimination.unrealised_profit),
                "group_inventory": str(elimination.group_inventory),
                "entry": {
                    "debit": {"account": "COGS", "amount": str(elimination.unrealised_profit)},
                    "credit": {
                        "account": "Inventory",
                        "amount": str(elimination.unrealised_profit),
                    },
                },
            }
        )
    return {
        "as_of": as_of.isoformat(),
        "rows": sorted(rows, key=lambda r: r["agreement"]),
        "left_out_no_cost": without_cost(
            [r for r in costed if r.agreement is not None and r.agreement.intercompany]
        ),
        **_ages(costed, as_of),
    }
