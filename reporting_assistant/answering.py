"""Answer a finance question, tool-first: work out what is asked, compute the figures with
the dashboard's selectors (under the asking user's visibility), retrieve the clauses of the
agreements in question, and compose an answer that states every figure with how it was
computed and quotes every clause with its agreement and number.

An LLM, when configured, may only phrase the answer from those facts (``llm.py``); an answer
that drops a figure or cites a clause that was not retrieved is replaced by the template.
Every question and answer is recorded.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from reporting_assistant.intent import FIGURE_WORDS, Intent, KnownParty, intent_for
from reporting_assistant.models import AssistantQuestion
from reporting_assistant.query.dates import when
from smi_core.exceptions import ApplicationError
from smi_core.finance.svg import bar_chart
from smi_core.models import (
    InventoryPosition,
    Item,
    Location,
    Party,
    ReplenishmentProposal,
    SupplyAgreement,
)
from smi_core.selectors.finance import FinanceScope
from smi_core.selectors.finance.figures import FIGURES, figure_compute
from smi_core.selectors.finance.tables import columns, table_for
from smi_core.selectors.reporting_date import ASKED, ReportingDay, reporting_day
from smi_core.templatetags.smi_format import rate

EXAMPLES = (
    "What is our inventory exposure to Acme in EUR?",
    "Which agreements make us liable for obsolete stock?",
    "How much cash goes out for replenishment in the next four weeks?",
    "What does the City Mart agreement say about payment terms, and how much do we owe them now?",
)
CAN_ANSWER = (
    "I answer questions about inventory value and exposure, cash out for replenishment, "
    "amounts owed, settlements (invoiced, paid, owed to us, overdue, cash in, DSO, realised "
    "FX), turnover and DIO, working capital, FX and intercompany adjustments, fill "
    "rate and stockouts, supplier scorecards and continuity, and what the agreements say "
    "about payment terms, ownership, obsolete stock, service level, lead time, pricing and "
    "currency."
)


@dataclass
class Fact:
    key: str  # stable id, e.g. "valuation.total.closing"
    label: str
    value: str  # as computed (Decimal text)
    unit: str  # currency code, "days", "%", ""
    how: str  # the selector, its filters, rates and their dates

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "unit": self.unit,
            "how": self.how,
        }


@dataclass
class Citation:
    id: str  # the clause's vector id
    agreement: str
    number: str
    title: str
    quote: str
    source: str

    @property
    def marker(self) -> str:
        return f"[{self.agreement} §{self.number}]"

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "agreement": self.agreement,
            "clause": self.number,
            "title": self.title,
            "quote": self.quote,
            "source": self.source,
            "marker": self.marker,
        }


@dataclass
class Answer:
    question: str
    text: str
    intent: Intent
    facts: list[Fact] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    table: dict | None = None
    chart: str = ""
    model: str = "template"
    fallback_reason: str = ""
    record_id: int | None = None
    restatement: str = ""
    query: dict | None = None  # the query model reading that was computed
    readings: list[dict] = field(default_factory=list)  # other readings, one-click changes
    reporting_date: dict | None = None  # set when the figures are as of the reporting date
    today_question: str = ""  # the same question as of today (one click on the chat page)

    def as_dict(self) -> dict:
        return {
            "question": self.question,
            "restatement": self.restatement,
            "query": self.query,
            "readings": self.readings,
            "answer": self.text,
            "intent": self.intent.as_dict(),
            "figures": [f.as_dict() for f in self.facts],
            "citations": [c.as_dict() for c in self.citations],
            "table": self.table,
            "model": self.model,
            "fallback_reason": self.fallback_reason,
            "id": self.record_id,
            "reporting_date": self.reporting_date,
        }


def _money(value: str, unit: str) -> str:
    amount = Decimal(value)
    return f"{unit} {amount:,.2f}" if unit and len(unit) == 3 else f"{value} {unit}".strip()


def visible_party_ids(scope: FinanceScope) -> set[int] | None:
    """The parties the user may name (None: all): those granted and their counterparties
    in the business the grants show (agreements, positions and orders in which a granted
    party is a side), the same rule as ``FinanceScope.positions/proposals``. Naming a
    counterparty narrows the figures; it never widens them beyond the scope."""
    if scope.party_ids is None:
        return None
    granted = scope.party_ids
    ids = set(granted)
    pairs = [
        SupplyAgreement.objects.filter(
            Q(buyer_id__in=granted) | Q(supplier_id__in=granted)
        ).values_list("buyer_id", "supplier_id"),
        scope.positions(InventoryPosition.objects.all())
        .values_list("location__party_id", "item__supplier_id")
        .distinct(),
        scope.proposals(ReplenishmentProposal.objects.all())
        .values_list("buyer_id", "supplier_id")
        .distinct(),
    ]
    for rows in pairs:
        for buyer, supplier in rows:
            ids |= {buyer, supplier}
    return ids


def visible_parties(party_ids: set[int] | None) -> list[KnownParty]:
    qs = Party.objects.all().order_by("code")
    if party_ids is not None:
        qs = qs.filter(pk__in=party_ids)
    return [KnownParty(p.code, p.name, p.role) for p in qs]


def visible_codes(party_ids: set[int] | None) -> tuple[list[str], list[str]]:
    """The item codes of the suppliers and the location codes of the buyers the user may
    name, from the item and location tables (only to recognise them in a question: the
    figures stay within the scope)."""
    items, locations = Item.objects.all(), Location.objects.all()
    if party_ids is not None:
        items = items.filter(supplier_id__in=party_ids)
        locations = locations.filter(party_id__in=party_ids)
    return (
        sorted(set(items.values_list("vendor_item", flat=True))),
        sorted(set(locations.values_list("code", flat=True))),
    )


def _params(intent: Intent, as_of: date) -> dict:
    params = {"as_of": intent.as_of or as_of.isoformat()}
    if intent.start and intent.end:  # "from A to B": the period of turnover, service, ...
        params["start"], params["end"] = intent.start, intent.end
    if len(intent.suppliers) == 1:
        params["supplier"] = intent.suppliers[0]
    if len(intent.buyers) == 1:
        params["buyer"] = intent.buyers[0]
    if intent.currency:
        params["currency"] = intent.currency
    if intent.weeks:
        params["weeks"] = str(intent.weeks)
    return params


def _how(
    name: str, params: dict, rates: list[dict] | None = None, period: str | None = None
) -> str:
    filters = ", ".join(
        f"{k}={v}" for k, v in params.items() if k not in ("as_of", "start", "end", "group_by")
    )
    text = f"{name} (/api/v1/finance/{name}/) as of {params['as_of']}"
    if period:
        text += f", period {period}"
    if filters:
        text += f", filtered {filters}"
    dated = [r for r in rates or () if r.get("date")]  # same-currency rates have none
    if dated:
        text += "; rates " + ", ".join(
            f"{r['pair']} {rate(r['rate'])} of {r['date']}" for r in dated
        )
    return text


def facts_for(name: str, data: dict, params: dict) -> tuple[list[Fact], str]:
    """The headline facts of one figure, and a sentence stating them."""
    if name == "valuation":
        rates = [r for row in data["rows"] for r in row["rates"]]
        unique = {f"{r['pair']}{r['date']}": r for r in rates}
        cur = data["reporting_currency"]
        how = _how(name, params, list(unique.values()))
        facts = [
            Fact(
                "valuation.total.closing",
                "inventory at the closing rate",
                data["total"]["value_closing"],
                cur,
                how,
            ),
            Fact(
                "valuation.total.historical",
                "inventory at historical rates",
                data["total"]["value_historical"],
                cur,
                how,
            ),
        ]
        own = {}
        for row in data["rows"]:
            if row["value"] is not None:
                own[row["currency_of_value"]] = own.get(
                    row["currency_of_value"], Decimal(0)
                ) + Decimal(row["value"])
        for currency, value in sorted(own.items()):
            if currency != cur:
                facts.append(
                    Fact(
                        f"valuation.{currency}",
                        f"at cost in {currency}",
                        f"{value:.2f}",
                        currency,
                        how,
                    )
                )
        if not data["rows"]:
            return [], "There is no inventory matching that in the figures you may see."
        owners = "; ".join(f"{r['owner']} {_money(r['value_closing'], cur)}" for r in data["rows"])
        parts = [
            f"Inventory {', '.join(f'{k}={v}' for k, v in params.items() if k not in ('as_of', 'weeks')) or 'overall'} as of {params['as_of']}:"
        ]
        parts += [f"{_money(f.value, f.unit)} {f.label}" for f in facts]
        return facts, " ".join([parts[0], "; ".join(parts[1:]) + "."]) + f" By owner: {owners}."
    if name == "cashflow":
        cur = data["reporting_currency"]
        how = _how(name, params, data["rates"])
        totals: dict[str, Decimal] = {}
        for bucket in data["buckets"]:
            for currency, amount in bucket["by_currency"].items():
                totals[currency] = totals.get(currency, Decimal(0)) + Decimal(amount)
        facts = [
            Fact(
                "cashflow.total",
                f"cash out in the next {data['weeks']} weeks",
                data["total_reporting"],
                cur,
                how,
            )
        ]
        facts += [
            Fact(f"cashflow.{c}", f"of which in {c}", f"{v:.2f}", c, how)
            for c, v in sorted(totals.items())
            if c != cur
        ]
        return facts, (
            f"Cash out for replenishment in the {data['weeks']} weeks from {params['as_of']}: "
            f"{_money(data['total_reporting'], cur)}"
            + "".join(f" ({_money(f.value, f.unit)} {f.label})" for f in facts[1:])
            + ", from approved orders and open proposals by their payment terms and consigned stock as it is consumed."
        )
    if name == "owed":
        how = _how(name, params)
        facts = [
            Fact(
                f"owed.{r['supplier']}.{r['currency']}",
                f"owed to {r['supplier']}",
                r["total"],
                r["currency"],
                how,
            )
            for r in data["rows"]
        ]
        if not facts:
            return (
                [],
                f"Nothing is owed for replenishment as of {params['as_of']} in the figures you may see.",
            )
        return facts, "Owed now: " + "; ".join(
            f"{_money(f.value, f.unit)} {f.label}" for f in facts
        ) + " (delivered orders not yet due, and consigned goods sold and not yet due)."
    if name == "turnover":
        overall = data["overall"]
        how = _how(name, params, data["rates"], period=f"{data['start']} to {data['end']}")
        facts = [
            Fact("turnover.turnover", "inventory turnover", overall["turnover"] or "n/a", "", how),
            Fact(
                "turnover.dio",
                "days inventory outstanding",
                overall["dio_days"] or "n/a",
                "days",
                how,
            ),
        ]
        return facts, (
            f"From {data['start']} to {data['end']}: turnover {overall['turnover'] or 'not computable'}, "
            f"DIO {overall['dio_days'] or 'not computable'} days, weeks of supply {overall['weeks_of_supply'] or 'n/a'}, "
            f"COGS {_money(overall['cogs'], data['reporting_currency'])}."
        )
    if name == "working-capital":
        how = _how(
            name,
            params,
            data["rates"],
            period=f"{data['current']['start']} to {data['current']['end']} against the "
            f"baseline {data['baseline']['start']} to {data['baseline']['end']}",
        )
        if data.get("released") is None:
            return [], "Working capital cannot be computed: " + data.get("note", "no sales")
        cur = data["reporting_currency"]
        facts = [
            Fact(
                "working-capital.released", "working capital released", data["released"], cur, how
            ),
            Fact(
                "working-capital.saving",
                "annual carrying-cost saving",
                data["annual_carrying_saving"],
                cur,
                how,
            ),
        ]
        return facts, (
            f"From {data['current']['start']} to {data['current']['end']} against "
            f"{data['baseline']['start']} to {data['baseline']['end']}: "
            f"DIO went from {data['baseline_dio']} to {data['current_dio']} days: "
            f"{_money(data['released'], cur)} released, saving {_money(data['annual_carrying_saving'], cur)} a year "
            f"at a {Decimal(data['carrying_rate']) * 100:.0f} % carrying rate."
        )
    if name == "fx":
        cur = data["reporting_currency"]
        how = _how(name, params, data["rates"])
        write_down = sum((Decimal(r["write_down"]) for r in data["inventory"]), Decimal(0))
        facts = [
            Fact("fx.write_down", "NRV write-down", f"{write_down:.2f}", cur, how),
            Fact(
                "fx.gain_loss",
                "FX gain (loss) on open invoices",
                data["fx_gain_loss_total"],
                cur,
                how,
            ),
        ]
        return facts, (
            f"FX as of {params['as_of']}: write-down {_money(facts[0].value, cur)} (inventory stays at historical rates); "
            f"gain or loss on open foreign-currency invoices {_money(facts[1].value, cur)}."
        )
    if name == "intercompany":
        how = _how(name, params)
        facts = [
            Fact(
                f"intercompany.{r['agreement']}",
                f"unrealised profit eliminated ({r['agreement']})",
                r["unrealised_profit"],
                r["currency"],
                how,
            )
            for r in data["rows"]
        ]
        if not facts:
            return [], "No intercompany stock is on hand in the figures you may see."
        return facts, "Intercompany: " + "; ".join(
            f"{_money(f.value, f.unit)} {f.label}, Dr COGS / Cr Inventory" for f in facts
        ) + "."
    if name == "service":
        overall = data["overall"]
        how = _how(name, params, period=f"{data['start']} to {data['end']}")
        facts = [
            Fact("service.fill_rate", "fill rate", overall["fill_rate"] or "n/a", "", how),
            Fact("service.stockouts", "stockouts", str(overall["stockouts"]), "", how),
        ]
        return facts, (
            f"From {data['start']} to {data['end']}: fill rate {overall['fill_rate'] or 'n/a'}, "
            f"in stock {overall['in_stock_pct'] or 'n/a'} %, {overall['stockouts']} stockouts."
        )
    if name == "scorecard":
        how = _how(name, params)
        facts = [
            Fact(
                f"scorecard.{code}.on_time",
                f"{code} shipments on time (%)",
                card["on_time_pct"] or "n/a",
                "%",
                how,
            )
            for code, card in data["suppliers"].items()
        ]
        return facts, "Scorecard: " + "; ".join(
            f"{code}: {card['unit_fill_pct'] or 'n/a'} % of units shipped, {card['on_time_pct'] or 'n/a'} % on time"
            for code, card in data["suppliers"].items()
        ) if facts else "No orders have been confirmed yet, so there is no scorecard."
    if name == "continuity":
        how = _how(name, params)
        facts = []
        parts = []
        for code, entry in data["suppliers"].items():
            facts.append(
                Fact(
                    f"continuity.{code}",
                    f"days until the first item runs out without {code}",
                    entry["first_run_out_days"] or "n/a",
                    "days",
                    how,
                )
            )
            first = ", ".join(
                f"{e['item']} at {e['buyer']}/{e['location']} ({e['days_of_cover']} days)"
                for e in entry["item_locations"][:3]
            )
            parts.append(
                f"without {code}, the first item runs out in {entry['first_run_out_days'] or 'n/a'} days: {first}"
            )
        return facts, ("; ".join(parts) + ".") if parts else "No stock to assess."
    if name == "settlement":
        cur = data["reporting_currency"]
        how = _how(name, params, data.get("rates"))
        total = data["total_reporting"]
        facts = [
            Fact("settlement.owed", "owed on settlements", total["owed"], cur, how),
            Fact("settlement.overdue", "overdue on settlements", total["overdue"], cur, how),
            Fact(
                "settlement.realised_fx",
                "realised FX on settlement payments",
                data["realised_fx"]["total"],
                cur,
                how,
            ),
        ]
        return facts, f"Settlements as of {data['as_of']}: " + "; ".join(
            f"{_money(f.value, f.unit)} {f.label}" for f in facts
        ) + "."
    raise KeyError(name)


def _agreements_in_question(intent: Intent, scope: FinanceScope) -> list[SupplyAgreement]:
    qs = SupplyAgreement.objects.select_related("supplier", "buyer").order_by("code")
    if scope.party_ids is not None:
        qs = qs.filter(supplier_id__in=scope.party_ids) | qs.filter(buyer_id__in=scope.party_ids)
    agreements = list(qs.distinct())
    named = set(intent.suppliers) | set(intent.buyers)
    if named:
        agreements = [a for a in agreements if {a.supplier.code, a.buyer.code} & named]
        if intent.suppliers and intent.buyers:
            both = [
                a
                for a in agreements
                if a.supplier.code in intent.suppliers and a.buyer.code in intent.buyers
            ]
            agreements = both or agreements
    return agreements


# A clause this far (cosine distance) from a question that matched no rule is not offered.
UNSURE_DISTANCE = 0.62
CLAUSE_PHRASES = (
    "who ",
    "when does",
    "when do",
    "within how many",
    "how many days",
    "what happens",
    "does the",
    "do we",
    "is the",
    "are the",
    "must",
    "may we",
    "allowed",
    "responsible",
    "bears",
)


def _about_clauses(question: str) -> bool:
    text = question.lower()
    return any(phrase in text for phrase in CLAUSE_PHRASES)


def clauses_for(
    question: str, intent: Intent, scope: FinanceScope, *, closer_than: float | None = None
) -> list[Citation]:
    from reporting_assistant.store import clauses_search

    agreements = _agreements_in_question(intent, scope)
    if not agreements:
        return []
    codes = [a.code for a in agreements]
    plural = any(
        w in question.lower() for w in ("which agreements", "agreements", "which contracts")
    )
    if len(codes) > 1 and not (intent.suppliers or intent.buyers) and plural:
        # "Which agreements ...": the best clause of each agreement.
        hits = [h for code in codes for h in clauses_search(question, agreements=[code], k=1)]
        if intent.topics:
            on_topic = [h for h in hits if h.clause.topic in intent.topics]
            hits = on_topic or hits
    else:
        hits = clauses_search(question, agreements=codes, k=3)
        # Clauses on the topic asked about first; the others stay, as topics are rules.
        hits = sorted(hits, key=lambda h: (h.clause.topic not in intent.topics, h.score))
    if closer_than is not None:
        hits = [h for h in hits if h.score <= closer_than]
    return [
        Citation(
            id=h.clause.vector_id,
            agreement=h.clause.agreement.code,
            number=h.clause.number,
            title=h.clause.title,
            quote=h.clause.text,
            source=h.clause.source,
        )
        for h in hits
    ]


def _breakdown(
    names: list[str], data: dict, always: tuple[str, ...] = ()
) -> tuple[dict | None, str]:
    """The first figure's table with two rows or more (or any rows, for ``always``)."""
    for name in names:
        rows = table_for(name, data[name])
        if len(rows) < (1 if name in always else 2):
            continue
        keys = columns(rows)
        table = {
            "figure": name,
            "columns": keys,
            "rows": [[r.get(k, "") for k in keys] for r in rows],
        }
        value_key = next(
            (
                k
                for k in (
                    "value_closing",
                    "amount_" + str(data[name].get("reporting_currency", "")) + "_reporting",
                    "total",
                    "days_of_cover",
                    "dio_days",
                )
                if k in keys
            ),
            None,
        )
        label_key = keys[0] if keys[0] != value_key else keys[1]
        chart = ""
        if value_key:
            bars = []
            for row in rows[:20]:
                try:
                    bars.append(
                        (str(row.get(label_key, "")), Decimal(str(row.get(value_key) or 0)))
                    )
                except ArithmeticError:
                    continue
            chart = bar_chart(f"{FIGURES[name].title}: {value_key}", bars, chart_id="answer-chart")
        return table, chart
    return None, ""


def _narrowing(intent: Intent) -> str:
    """ "item SOAP at location S001" for a question narrowed to items or locations."""
    parts = []
    if intent.items:
        parts.append("item " + ", ".join(intent.items))
    if intent.locations:
        parts.append("location " + ", ".join(intent.locations))
    return " at ".join(parts)


def _row_matches(row: dict, intent: Intent) -> bool:
    item_ok = not intent.items or row["item"].lower() in {i.lower() for i in intent.items}
    code = row["location"].split("/", 1)[-1].lower()
    location_ok = not intent.locations or {code, row["location"].lower()} & {
        loc.lower() for loc in intent.locations
    }
    return bool(item_ok and location_ok)


def _narrowed_valuation(data: dict, params: dict, intent: Intent) -> tuple[list[Fact], str]:
    """The valuation rows (grouped by item and location) of the items and locations asked
    about: the narrowed figure, never the overall total."""
    cur = data["reporting_currency"]
    narrowed = _narrowing(intent)
    rows = [r for r in data["rows"] if _row_matches(r, intent)]
    if not rows:
        return [], (
            f"There is no inventory of {narrowed} as of {params['as_of']} in the figures you "
            "may see; the valuation by item and location you may see is in the table."
        )
    facts = []
    for row in rows:
        how = (
            _how("valuation", params, row["rates"])
            + f", row item={row['item']} location={row['location']}"
        )
        where = f"{row['item']} at {row['location']}"
        facts += [
            Fact(
                f"valuation.{row['item']}.{row['location']}.closing",
                f"inventory of {where} at the closing rate",
                row["value_closing"],
                cur,
                how,
            ),
            Fact(
                f"valuation.{row['item']}.{row['location']}.historical",
                f"inventory of {where} at historical rates",
                row["value_historical"],
                cur,
                how,
            ),
        ]
    return facts, (
        f"Inventory of {narrowed} as of {params['as_of']} (the rows of the valuation by item "
        "and location): " + "; ".join(f"{_money(f.value, f.unit)} {f.label}" for f in facts) + "."
    )


def _missing(name: str, exc: ApplicationError) -> str:
    title = FIGURES[name].title if name in FIGURES else name
    return (
        f"I cannot give the {name} figure ({title}): {exc.message.rstrip('.')}. "
        "Ask for a date the data covers, or about another figure or an agreement's clauses."
    )


def _query_answer(question, intent, parsed, vocab, scope, query) -> Answer | None:
    """The answer through the query model (``query/``), or None when the question is one
    for the clause path (terms only, out of scope, a partner nobody knows)."""
    from reporting_assistant.query.answer import answer_audit, answer_query
    from reporting_assistant.query.model import Query

    if query is not None:
        try:
            chosen, readings, more = Query.from_dict(query), None, []
        except (ValueError, TypeError, KeyError) as exc:
            raise ApplicationError(
                f"That reading cannot be computed: {exc}", code="bad_query"
            ) from None
    elif parsed.audit is not None:
        done = answer_audit(parsed.audit, scope=scope)
        return Answer(
            question=question, text=done.text, intent=intent, restatement=done.restatement
        )
    elif not parsed.readings or intent.out_of_scope:
        return None
    elif parsed.metric_from != "owner" and (  # "what do the buyers own?" asks a value
        (
            (intent.wants_clauses or TERMS_ASKED.search(question.lower()))
            and not AMOUNT_ASKED.search(question.lower())
        )
        or (
            not intent.figures
            and intent.topics
            and parsed.metric_from != "rule"
            and not AMOUNT_ASKED.search(question.lower())
        )
    ):
        return None  # a question about terms, asking no amount: the clause path
    elif (
        intent.unknown_names
        and not (intent.suppliers or intent.buyers)
        and not any(r.query.filters for r in parsed.readings)
        and not all(n.lower()[:3] in MONTH_PREFIXES for n in intent.unknown_names)
    ):
        return None  # a partner nobody knows ("Globex"): the refusal below names it
    else:
        chosen, readings, more = parsed.readings[0].query, parsed.readings, parsed.more
    done = answer_query(chosen, scope=scope, readings=readings, vocab=vocab, more=more)
    facts: list[Fact] = []
    for part in done.parts:
        if part.result is None:
            continue
        result = part.result
        facts.append(
            Fact(
                f"query.{part.query.metric}",
                part.restatement,
                str(result.value) if result.value is not None else "n/a",
                result.unit,
                f"query model {part.query.metric} via the finance selectors"
                + "".join(
                    f"; rate {r['pair']} {rate(r['rate'])} of {r['date']}"
                    for r in result.rates
                    if r.get("date")
                ),
            )
        )
        if result.data is not None and result.figure in FIGURES and not result.narrowed:
            # the figure's own headline facts, as the dashboard states them
            own, _ = facts_for(result.figure, result.data, result.params or {})
            known = {f.key for f in facts}
            if part.dropped:
                names = ", ".join(f"{f.kind} {f.key}" for f in part.dropped)
                own = [
                    replace(f, label=f"{f.label} (all items and locations, not {names})")
                    for f in own
                ]
            facts += [f for f in own if f.key not in known]
    if not facts:
        done.text += "\n\n" + CAN_ANSWER
    result = done.result
    answer = Answer(
        question=question,
        text=done.text,
        intent=intent,
        restatement=done.restatement,
        query=done.query.as_dict(),
        readings=done.readings,
        facts=facts,
    )
    answer.table = _table_of(result) if result is not None else None
    computed = {p.result.figure: p.result.data for p in done.parts if p.result and p.result.data}
    if answer.table is None and computed:
        narrowed = any(p.result.narrowed for p in done.parts if p.result)
        answer.table, answer.chart = _breakdown(
            list(computed), computed, always=("valuation",) if narrowed else ()
        )
    topic = done.governing_topic
    if intent.wants_clauses:  # asked about terms: the clauses of the agreements in the query
        answer.citations = clauses_for(question, _intent_of(chosen, intent), scope)
        if intent.topics:
            answer.citations = [
                c for c in answer.citations if _topic(c) in intent.topics
            ] or answer.citations
    elif topic:
        answer.citations = _governing(chosen, intent, scope, topic)
    for citation in answer.citations:
        answer.text += f"\n\n{citation.marker} {citation.title}: \u201c{citation.quote}\u201d"
    return answer


def _topic(citation: Citation) -> str:
    from reporting_assistant.models import AgreementClause

    found = (
        AgreementClause.objects.filter(vector_id=citation.id)
        .values_list("topic", flat=True)
        .first()
    )
    return found or ""


# "how much ...", "how many units": a figure is asked even where words of terms appear
AMOUNT_ASKED = re.compile(r"\bhow much\b|\bhow many (?!days|weeks|hours|times)|\bworth\b")
# what an agreement says rather than what a figure is
TERMS_ASKED = re.compile(
    r"\b(?:within how many|how many days(?! of (?:inventory|stock|supply|cover))|"
    r"how often|how frequently|how quickly|how fast|what happens|give us|send us|"
    r"who (?:owns|pays|bears|takes|are|is)|should|must|committed|agreed|obliged|allowed|"
    r"minimum|say about|says about|clause)\b"
)
MONTH_PREFIXES = {
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
}


def _table_of(result) -> dict | None:
    from reporting_assistant.query.answer import _table

    return _table(result)


def _intent_of(query, intent: Intent) -> Intent:
    """The old intent narrowed to the parties of the query, so that retrieval keeps to
    the agreements in the query."""
    suppliers = tuple(f.key for f in query.filters if f.kind == "supplier")
    buyers = tuple(f.key for f in query.filters if f.kind == "buyer")
    return replace(intent, suppliers=suppliers or intent.suppliers, buyers=buyers or intent.buyers)


def _governing(query, intent: Intent, scope: FinanceScope, topic: str) -> list[Citation]:
    """The clauses on ``topic`` (payment terms beside owed, ownership beside exposure) of
    the agreements in the query only."""
    from reporting_assistant.models import AgreementClause

    codes = [a.code for a in _agreements_in_question(_intent_of(query, intent), scope)]
    named = [f.key for f in query.filters if f.kind == "agreement"]
    if named:
        codes = [c for c in codes if c in named]
    clauses = AgreementClause.objects.filter(agreement__code__in=codes, topic=topic).select_related(
        "agreement", "document"
    )
    return [
        Citation(
            id=c.vector_id,
            agreement=c.agreement.code,
            number=c.number,
            title=c.title,
            quote=c.text,
            source=getattr(c, "source", ""),
        )
        for c in clauses.order_by("agreement__code", "number")[:3]
    ]


def assistant_ask(
    *, user, question: str, llm=None, as_of: date | None = None, query: dict | None = None
) -> Answer:
    """Answer ``question`` for ``user`` (within what the user may see) and record it.
    ``query``: a reading chosen on the chat page (the query model as a dict), computed as
    it is instead of parsing the question again."""
    from reporting_assistant.query.answer import question_parse

    started = time.monotonic()
    question = " ".join(question.split())[:1000]
    scope = FinanceScope.for_user(user)
    # ``as_of`` given: the day the question is asked on, and its answer's default. Else
    # today, and a question naming no day is as of the site's reporting date, if set.
    today = as_of or timezone.localdate()
    day = reporting_day(today=today) if as_of is None else ReportingDay(today, ASKED, today)
    moment = when(question, today, day.as_of)
    on_reporting_date = day.pinned and not moment.given and moment.as_of == day.as_of
    as_of = moment.as_of if not moment.given else today  # the intent path's default day
    party_ids = visible_party_ids(scope)
    parties = visible_parties(party_ids)
    items, locations = visible_codes(party_ids)
    intent = intent_for(question, parties, items=items, locations=locations)
    parsed, vocab = question_parse(question, party_ids=party_ids, today=today, default=day.as_of)
    answer = Answer(question=question, text="", intent=intent)
    sentences: list[str] = []
    filled_by = ""
    if llm is not None and query is None and question and not parsed.readings and not parsed.audit:
        # the optional LLM fills the same query model where the parser found no figure
        from reporting_assistant.query.llm_fill import llm_query

        filled, reason = llm_query(llm, question, vocab=vocab, today=today, default=day.as_of)
        if filled is not None:
            query, filled_by = filled.as_dict(), _model_name(llm)
        else:
            answer.fallback_reason = reason
    done = _query_answer(question, intent, parsed, vocab, scope, query) if question else None
    if done is not None and filled_by:
        done.model, llm = filled_by, None  # its figures are ours; nothing left to phrase
    if done is not None:
        answer = done
        sentences.append(answer.text)
    elif not question:
        sentences.append("Ask a question. " + CAN_ANSWER)
    elif intent.unknown_names and not (intent.suppliers or intent.buyers):
        names = ", ".join(intent.unknown_names)
        sentences.append(
            f"I know no partner called {names} among those you may see "
            f"({', '.join(p.name for p in parties) or 'none'}), so I cannot give figures or clauses for it."
        )
    elif intent.out_of_scope:
        sentences.append(
            f"That is outside what I can answer ({', '.join(intent.out_of_scope)}): I have no "
            "figures on it and the agreements do not cover it. " + CAN_ANSWER
        )
        sentences.append("For example: " + " / ".join(EXAMPLES))
    elif intent.kind == "unknown" and not (
        guess := clauses_for(question, intent, scope, closer_than=UNSURE_DISTANCE)
    ):
        sentences.append(
            "I could not tell what figure or agreement clause you are asking about"
            + (
                f" (I did not understand {', '.join(parsed.not_understood)})"
                if parsed.not_understood
                else ""
            )
            + ". "
            + CAN_ANSWER
        )
        sentences.append("For example: " + " / ".join(EXAMPLES))
    elif intent.kind == "unknown":
        answer.citations = guess
        sentences.append("The agreement clauses closest to your question:")
        sentences += [f"{c.marker} {c.title}: \u201c{c.quote}\u201d" for c in answer.citations]
    else:
        params = _params(intent, as_of)
        narrowed = _narrowing(intent)
        computed = {}
        by_item_location = None
        if narrowed and intent.figures:
            # Only the valuation can be narrowed to items and locations (its rows by item
            # and location); the other figures are said to be for all of them.
            try:
                by_item_location = figure_compute(
                    "valuation", scope=scope, params=params | {"group_by": "item,location"}
                )
            except ApplicationError as exc:
                sentences.append(_missing("valuation", exc))
        failed = False
        for name in intent.figures:
            if narrowed and name == "valuation":
                if by_item_location is None:
                    failed = True
                    continue
                facts, sentence = _narrowed_valuation(by_item_location, params, intent)
                answer.facts += facts
                sentences.append(sentence)
                continue
            try:
                computed[name] = figure_compute(name, scope=scope, params=params)
            except ApplicationError as exc:
                failed = True
                sentences.append(_missing(name, exc))
                continue
            facts, sentence = facts_for(name, computed[name], params)
            if narrowed:
                sentence = (
                    f"Not narrowed to {narrowed}: the {name} figure cannot be narrowed to an "
                    "item or a location, so this is for every item and location you may see. "
                    f"{sentence}"
                )
                facts = [
                    replace(f, label=f"{f.label} (all items and locations, not {narrowed})")
                    for f in facts
                ]
            answer.facts += facts
            sentences.append(sentence)
        if by_item_location is not None:
            if "valuation" not in intent.figures:
                sentences.append(
                    f"The inventory value by item and location is in the table, {narrowed} "
                    "among its rows."
                )
            computed = {"valuation": by_item_location, **computed}
        if failed and not answer.facts:
            sentences.append(CAN_ANSWER)
        if intent.wants_clauses or _about_clauses(question):
            answer.citations = clauses_for(question, intent, scope)
            if answer.citations:
                for citation in answer.citations:
                    sentences.append(
                        f"{citation.marker} {citation.title}: \u201c{citation.quote}\u201d"
                    )
            else:
                sentences.append("No agreement you may see has a clause on that.")
        answer.table, answer.chart = _breakdown(
            list(computed), computed, always=("valuation",) if by_item_location else ()
        )
    answer.text = "\n\n".join(sentences)
    if llm is not None and (answer.facts or answer.citations):
        from reporting_assistant.llm import llm_phrase

        phrased, reason = llm_phrase(llm, answer, scope=scope, params=_params(intent, as_of))
        if phrased is not None:
            answer.text, answer.model = phrased, _model_name(llm)
        else:
            answer.fallback_reason = reason
    if on_reporting_date and query is None and answer.facts:
        # said in our words after any phrasing, so an LLM cannot drop it
        answer.reporting_date = day.as_dict()
        answer.today_question = f"{question} as of today"
        answer.text += f"\n\nFigures {day.statement()}; ask \u201cas of today\u201d for today's."
    record = AssistantQuestion.objects.create(
        user=user,
        question=question,
        intent=intent.as_dict(),
        answer=answer.text,
        figures=[f.as_dict() for f in answer.facts],
        clause_ids=[c.id for c in answer.citations],
        model=answer.model,
        fallback_reason=answer.fallback_reason[:300],
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    answer.record_id = record.pk
    return answer


def _model_name(llm) -> str:
    for attribute in ("model_name", "model"):
        value = getattr(llm, attribute, None)
        if isinstance(value, str) and value:
            return value[:120]
    return type(llm).__name__[:120]


__all__ = ["EXAMPLES", "FIGURE_WORDS", "Answer", "Citation", "Fact", "assistant_ask"]
