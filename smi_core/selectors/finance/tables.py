"""Each finance figure as one flat table (list of rows with the same keys): what the CSV
export, the command line and the dashboard's tables show. A converted amount's row has a
``rates`` column: each rate used, its pair and its date."""

from __future__ import annotations


def _flat(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update({f"{key}_{k}": v for k, v in _flat(value).items()})
        elif isinstance(value, list):
            out[key] = "; ".join(_rate_text(v) for v in value)
        else:
            out[key] = value
    return out


def _rate_text(value) -> str:
    if isinstance(value, dict) and "pair" in value:
        return f"{value['pair']} {value['rate']} ({value['date'] or 'same currency'})"
    return str(value)


def table_for(figure: str, data: dict) -> list[dict]:
    if figure == "valuation":
        return [_flat(row) for row in data["rows"]]
    if figure == "fx":
        rows = [_flat({"kind": "inventory", **row}) for row in data["inventory"]]
        rows += [_flat({"kind": "invoice", **row}) for row in data["invoices"]]
        return rows
    if figure == "owed":
        return list(data["rows"])
    if figure == "intercompany":
        return [
            {k: v for k, v in row.items() if k != "entry"} | {"entry": "Dr COGS / Cr Inventory"}
            for row in data["rows"]
        ]
    if figure in ("turnover", "service"):
        rows = [
            _flat({"supplier": code, **{k: v for k, v in f.items() if k != "inventory_by_period"}})
            for code, f in data["suppliers"].items()
        ]
        overall = {k: v for k, v in data["overall"].items() if k != "inventory_by_period"}
        return [*rows, _flat({"supplier": "(all)", **overall})]
    if figure == "scorecard":
        return [{"supplier": code, **card} for code, card in data["suppliers"].items()]
    if figure == "continuity":
        return [
            {"supplier": code, **entry}
            for code, supplier in data["suppliers"].items()
            for entry in supplier["item_locations"]
        ]
    if figure == "cashflow":
        return [
            {
                "week": b["week"],
                "week_start": b["week_start"],
                **{f"amount_{c}": a for c, a in b["by_currency"].items()},
                f"amount_{data['reporting_currency']}_reporting": b["reporting"],
                "rates": "; ".join(_rate_text(r) for r in b.get("rates", [])),
            }
            for b in data["buckets"]
        ]
    if figure == "working-capital":
        return [_flat(data)]
    if figure == "settlement":
        dso = data["dso"]["by_currency"]
        return [
            {
                **{k: v for k, v in row.items() if k != "rate"},
                "dso_days": (dso.get(row["currency"]) or {}).get("dso_days"),
                "rates": _rate_text(row["rate"]) if row.get("rate") else "",
            }
            for row in data["rows"]
        ]
    raise KeyError(figure)


def columns(rows: list[dict]) -> list[str]:
    """Every key of every row, in first-seen order (rows may differ, e.g. currencies)."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key)
    return list(seen)
