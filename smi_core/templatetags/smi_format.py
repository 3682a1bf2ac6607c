"""How figures read for people: the one place that formats money, quantities, percentages,
days and rates, names columns in words, and turns a finance figure's flat table into rows a
person reads (the pages use these as template filters; the command line calls the same
functions). Machine formats (``--json``, the API) never pass through here: they keep full
precision and machine names."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

DASH = "—"


def _decimal(value) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _grouped(number: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    number = number.quantize(quantum, rounding=ROUND_HALF_UP)
    if number == 0:
        number = abs(number)  # no "-0.00"
    return f"{number:,.{places}f}"


@register.filter
def missing(reason="") -> str:
    """A figure that is not there: a dash and, when known, why."""
    reason = str(reason or "").strip()
    return f"{DASH} {reason}" if reason else DASH


@register.filter
def money(value, currency: str = "") -> str:
    """``41465.27`` and ``USD`` -> ``USD 41,465.27``: thousands separators, two decimals."""
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    text = _grouped(number, 2)
    return f"{currency} {text}" if currency else text


@register.filter
def quantity(value) -> str:
    """``3887.0000`` -> ``3,887``; a fraction keeps at most three decimals, no trailing zeros."""
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    if number == number.to_integral_value():
        return _grouped(number, 0)
    text = _grouped(number, 3).rstrip("0")
    return text.rstrip(".")


@register.filter
def percent(value, places: int = 1) -> str:
    """A value already in percent: ``99.5000`` -> ``99.5 %``."""
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    return f"{_grouped(number, int(places))} %"


@register.filter
def fraction_percent(value, places: int = 1) -> str:
    """A fraction shown in percent: ``0.2500`` -> ``25.0 %``."""
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    return percent(number * 100, places)


@register.filter
def days(value, places: int = 1) -> str:
    """``70.3318`` -> ``70.3 days``."""
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    return f"{_grouped(number, int(places))} days"


@register.filter
def decimal(value, places: int = 2) -> str:
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    return _grouped(number, int(places))


@register.filter
def rate(value) -> str:
    """An exchange rate: ``1.15140000`` -> ``1.1514`` (up to six decimals, no trailing zeros)."""
    number = _decimal(value)
    if number is None:
        return missing(value if isinstance(value, str) and value.strip() else "")
    text = _grouped(number, 6).rstrip("0")
    return text + "0" if text.endswith(".") else text


# Column name -> (heading in words, kind). The kinds: money (the row's own currency),
# reporting (the reporting currency, named in the heading), quantity, count, percent (already
# in percent), fraction (shown in percent), days, weeks, times (a turnover), ratio, date,
# yesno, text. Columns marked None are left off the pages (shown elsewhere, e.g. as notes).
COLUMNS: dict[str, tuple[str, str] | None] = {
    "supplier": ("Supplier", "text"),
    "owner": ("Owner", "text"),
    "buyer": ("Buyer", "text"),
    "seller": ("Seller", "text"),
    "agreement": ("Agreement", "text"),
    "item": ("Item", "text"),
    "location": ("Location", "text"),
    "currency": ("Currency", "text"),
    "kind": ("Kind", "text"),
    "po_number": ("PO", "text"),
    "entry": ("Journal entry", "text"),
    "quantity": ("Units", "quantity"),
    "value": ("Value (agreement currency)", "money"),
    "value_historical": ("At historical rates", "reporting"),
    "value_closing": ("At closing rates", "reporting"),
    "cost_historical": ("Cost at historical rates", "reporting"),
    "nrv": ("Net realisable value", "reporting"),
    "write_down": ("Write-down", "reporting"),
    "positions": ("Positions", "count"),
    "nrv_status": ("NRV test", "text"),
    "currency_of_value": None,
    "rates": None,
    "amount": ("Amount", "money"),
    "booked": ("Booked", "reporting"),
    "remeasured": ("Remeasured", "reporting"),
    "fx_gain_loss": ("FX gain (loss)", "reporting"),
    "buyer_fx_gain_loss": None,
    "seller_fx_gain_loss": ("Seller's FX gain (loss)", "reporting"),
    "seller_gross_margin": ("Seller's gross margin", "fraction"),
    "intercompany_inventory": ("Intercompany inventory", "money"),
    "unrealised_profit": ("Unrealised profit", "money"),
    "group_inventory": ("Group inventory", "money"),
    "cogs": ("Cost of goods sold", "reporting"),
    "average_inventory": ("Average inventory", "reporting"),
    "ending_inventory": ("Ending inventory", "reporting"),
    "units_sold": ("Units sold", "quantity"),
    "turnover": ("Turnover", "times"),
    "turnover_annualised": ("Turnover, annualised", "times"),
    "dio_days": ("Days inventory outstanding", "days"),
    "days_covered": ("Days with data", "quantity"),
    "calendar_days": None,
    "dio_rule": None,
    "inventory_to_sales": ("Inventory to sales", "ratio"),
    "sales": ("Sales", "reporting"),
    "sales_basis": None,
    "weeks_of_supply": ("Weeks of supply", "weeks"),
    "gmroi": ("GMROI", "ratio"),
    "gmroi_reason": None,
    "fill_rate": ("Fill rate", "fraction"),
    "in_stock_pct": ("In stock", "percent"),
    "stockouts": ("Stock-outs", "count"),
    "item_location_periods": ("Item-location weeks", "count"),
    "units_lost_estimate": ("Units lost (estimate)", "quantity"),
    "stock": ("Stock", "quantity"),
    "demand_per_week": ("Demand per week", "quantity"),
    "days_of_cover": ("Days of cover", "days"),
    "reported_on": ("Reported on", "date"),
    "age_days": ("Age (days)", "count"),
    "stale": ("Stale", "yesno"),
    "week": ("Week", "count"),
    "week_start": ("Week from", "date"),
    "orders": ("Orders", "money"),
    "consignment": ("Consignment", "money"),
    "total": ("Total", "money"),
    # settlement: receivables by buyer and currency, aged by days past due
    "documents": ("Documents", "count"),
    "invoiced": ("Invoiced", "money"),
    "paid": ("Paid", "money"),
    "owed": ("Owed", "money"),
    "overdue": ("Overdue", "money"),
    "aged_current": ("Not yet due", "money"),
    "aged_1_30": ("1-30 days late", "money"),
    "aged_31_60": ("31-60 days late", "money"),
    "aged_61_90": ("61-90 days late", "money"),
    "aged_over_90": ("Over 90 days late", "money"),
    "dso_days": ("DSO", "days"),
    # working capital: the two periods compared
    "baseline_start": ("Baseline from", "date"),
    "baseline_end": ("Baseline to", "date"),
    "current_start": ("Current from", "date"),
    "current_end": ("Current to", "date"),
    "baseline_dio": ("DIO, baseline (days)", "days"),
    "current_dio": ("DIO, current (days)", "days"),
    "released": ("Working capital released", "reporting"),
    "annual_carrying_saving": ("Carrying cost saved a year", "reporting"),
    "carrying_rate": ("Carrying rate a year", "fraction"),
    "note": ("Note", "text"),
    "reporting_currency": None,
    "data_age": None,
    "rate_warnings": None,
    "stale_partners": None,
    # the simulation's measures
    "stockout_weeks": ("Stock-out weeks", "count"),
    "units_demanded": ("Units demanded", "quantity"),
    "units_lost": ("Units lost", "quantity"),
    "average_inventory_value": ("Average inventory value", "reporting"),
    "working_capital": ("Working capital", "reporting"),
    "carrying_cost": ("Carrying cost", "reporting"),
    "units_ordered": ("Units ordered", "quantity"),
}


@register.filter
def heading(key: str) -> str:
    """A column's name in words: ``dio_days`` -> ``Days inventory outstanding``."""
    known = COLUMNS.get(key)
    if known:
        return known[0]
    if key.startswith("amount_"):
        code = key.removeprefix("amount_").removesuffix("_reporting")
        return f"Total ({code})" if key.endswith("_reporting") else f"In {code}"
    return key.replace("_", " ").capitalize()


def kind_of(key: str) -> str:
    known = COLUMNS.get(key)
    if known:
        return known[1]
    if key.startswith("amount_"):
        return "amount"
    return "text"


@register.filter
def fact(value, unit: str = "") -> str:
    """An assistant figure with its unit as a person reads it: a currency code gives money
    (``USD 41,525.32``), ``days`` days, ``%`` a percentage, ``units``/``EA`` whole units;
    text that is no number (``n/a``, a reason) is shown as it is."""
    unit = str(unit or "").strip()
    if _decimal(value) is None:
        return str(value) if value not in (None, "") else missing()
    if len(unit) == 3 and unit.isalpha() and unit.isupper():
        return money(value, unit)
    if unit == "days":
        return days(value)
    if unit == "%":
        return percent(value)
    if unit in ("units", "EA", "unit"):
        return f"{quantity(value)} {unit}"
    text = quantity(value) if "." not in str(value) else decimal(value, 2)
    return f"{text} {unit}".strip()


@register.filter
def cell(value) -> str:
    """A breakdown cell: numbers grouped (two decimals when they have any), text as is."""
    number = _decimal(value)
    if number is None or isinstance(value, bool):
        return missing() if value in (None, "") else str(value)
    return quantity(value) if "." not in str(value) else decimal(value, 2)


@register.filter
def is_number(value) -> bool:
    """Whether a breakdown cell holds a number (right-aligned) rather than text."""
    return not isinstance(value, bool) and _decimal(value) is not None


@register.filter
def numeric_columns(table: dict) -> list[tuple[str, bool]]:
    """A breakdown's columns, each with whether all its filled cells are numbers (its
    heading then aligns right, over its figures)."""
    out = []
    for n, name in enumerate(table.get("columns") or []):
        cells = [row[n] for row in table.get("rows") or [] if row[n] not in ("", None)]
        out.append((name, bool(cells) and all(is_number(c) for c in cells)))
    return out


def format_value(value, kind: str, *, currency: str = "", reason: str = "") -> str:
    """One cell as a person reads it; a missing number is a dash with ``reason``."""
    if value is None or value == "" or str(value) == "None":
        return missing(reason)
    if kind == "text":
        return str(value)
    if kind == "date":
        return str(value)[:10]
    if kind == "yesno":
        return "yes" if str(value).lower() in ("true", "1", "yes") else "no"
    if _decimal(value) is None:  # a reason where a number would be ("not tested ...")
        return missing(str(value))
    if kind in ("money", "reporting", "amount"):
        return money(value, currency)
    if kind == "quantity":
        return quantity(value)
    if kind == "count":
        return quantity(value)
    if kind == "percent":
        return percent(value)
    if kind == "fraction":
        return fraction_percent(value)
    if kind == "days":
        return days(value)
    if kind == "weeks":
        return f"{decimal(value, 1)} weeks"
    if kind == "times":
        return f"{decimal(value, 2)}\u00d7"  # times, e.g. 0.80 times
    if kind == "ratio":
        return decimal(value, 2)
    return str(value)


def _rates(text: str) -> list[str]:
    """``EUR/USD 1.15140000 (2026-10-02); ...`` -> readable rates, one per pair and date."""
    out = []
    for part in (p.strip() for p in str(text or "").split(";")):
        if not part:
            continue
        bits = part.split(" ", 2)
        if len(bits) == 3 and _decimal(bits[1]) is not None:
            part = f"{bits[0]} {rate(bits[1])} {bits[2]}"
        out.append(part)
    return out


REASON_WIDTH = 40  # a longer reason in a number's cell is cut; the page shows it on hover
# Columns holding a code (a party, an agreement, an item): one word that a page must not
# break at its hyphens ("acme-" / "supply").
CODE_COLUMNS = frozenset(
    {"supplier", "owner", "buyer", "seller", "agreement", "item", "location", "currency"}
)


def _cut(text: str, width: int = REASON_WIDTH) -> str:
    """``text`` cut to ``width`` at the last space or comma before it, so no code or word is
    left half (``... for ACME-1001, …``, not ``... for ACME-1001, AC…``)."""
    if len(text) <= width:
        return text
    head = text[:width]
    space = head.rfind(" ")
    if space > width // 2:
        head = head[:space]
    return head.rstrip(" ,;") + " …"


def human_table(rows: list[dict], *, reporting_currency: str) -> dict:
    """A figure's flat table (``tables.table_for``) as people read it: headings in words,
    formatted cells, numbers flagged for right alignment, and the exchange rates used as one
    footnote instead of a column."""
    keys: list[str] = []
    for row in rows:
        for key in row:
            if key not in keys and COLUMNS.get(key, ()) is not None:
                keys.append(key)
    headings = []
    for key in keys:
        kind = kind_of(key)
        text = heading(key)
        if kind == "reporting":
            text = f"{text} ({reporting_currency})"
        headings.append({"key": key, "text": text, "numeric": kind not in ("text", "date")})
    body = []
    rates: list[str] = []
    for row in rows:
        for r in _rates(row.get("rates", "")):
            if r not in rates and "same currency" not in r:
                rates.append(r)
        cells = []
        for key in keys:
            kind = kind_of(key)
            value = row.get(key, "")
            reason = row.get(f"{key}_reason") or ""
            if kind == "money":
                currency = row.get("currency_of_value") or row.get("currency") or ""
            else:  # the heading names the currency
                currency = ""
            if kind == "reporting" and not reason and key == "nrv":
                reason = row.get("nrv_status") or ""
            if key == "write_down" and str(row.get("nrv_status") or "").startswith("not tested"):
                # nothing tested: the write-down is not known (0.00 would read as passed);
                # the NRV test column beside it says why
                cells.append(
                    {"text": DASH, "numeric": True, "code": False, "title": DASH, "reason": False}
                )
                continue
            if value in ("", None) and kind not in ("text",) and not reason:
                reason = "" if key.startswith("amount_") else "not computed"
            full = format_value(value, kind, currency=currency, reason=reason)
            text = full if kind == "text" else _cut(full)
            cells.append(
                {
                    "text": text,
                    "numeric": kind not in ("text", "date"),
                    "code": key in CODE_COLUMNS,
                    "title": full,
                    "reason": kind not in ("text", "date") and full.startswith(DASH + " "),
                }
            )
        body.append(cells)
    return {"headings": headings, "rows": body, "rates": rates}


SIMULATION_KINDS = {"orders": "count"}


def _signed(text: str, value) -> str:
    number = _decimal(value)
    return f"+{text}" if number is not None and number > 0 else text


def simulation_rows(result: dict) -> list[dict]:
    """The simulation's measures as people read them: one row per measure with the current
    policy, the scenario and the difference (signed; a fill rate's in percentage points)."""
    currency = result.get("reporting_currency") or ""
    rows = []
    for key, current in result["current"].items():
        kind = SIMULATION_KINDS.get(key) or kind_of(key)
        unit = ""
        scenario = result["scenario"][key]
        difference = result["difference"][key]
        reason = "no demand in the period" if key in ("fill_rate", "in_stock_pct") else ""
        if kind in ("fraction", "percent") and difference is not None:
            points = Decimal(str(difference)) * (100 if kind == "fraction" else 1)
            diff_text = _signed(f"{decimal(points, 1)} pts", difference)
        else:
            diff_text = _signed(
                format_value(difference, kind, currency=unit, reason=reason), difference
            )
        rows.append(
            {
                "key": key,
                "heading": heading(key) + (f" ({currency})" if kind == "reporting" else ""),
                "current": format_value(current, kind, currency=unit, reason=reason),
                "scenario": format_value(scenario, kind, currency=unit, reason=reason),
                "difference": diff_text,
            }
        )
    return rows
