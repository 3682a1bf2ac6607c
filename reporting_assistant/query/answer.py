"""Answer a question through the query model: parse, run the best reading through the
selectors, open with the restatement, offer the other readings (and one-click changes of
currency and date), quote only the clause that governs the figure, and answer auditors'
questions from the audit trail."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings

from reporting_assistant.query.compute import Result, query_run
from reporting_assistant.query.model import METRICS, Query, Reading, restatement
from reporting_assistant.query.parser import Audit, Parse, nearest_examples, parse
from reporting_assistant.query.vocabulary import Vocabulary, vocabulary_for
from smi_core.exceptions import ApplicationError
from smi_core.models import AuditEvent, ReplenishmentProposal
from smi_core.selectors.finance import FinanceScope

_embed_lock = threading.Lock()
_embed = None


def examples_embedder():
    """The nearest-labelled-examples intent (the shipped embeddings), loaded once; None
    when the model is not installed (rules still work)."""
    global _embed
    with _embed_lock:
        if _embed is None:
            try:
                from reporting_assistant.embeddings import embeddings_default

                _embed = nearest_examples(embeddings_default())
            except Exception:
                _embed = False
    return _embed or None


@dataclass
class QueryAnswer:
    text: str
    restatement: str = ""
    query: Query | None = None
    result: Result | None = None
    readings: list[dict] = field(default_factory=list)  # the other readings and changes
    governing_topic: str = ""
    audit: list[dict] = field(default_factory=list)
    parts: list = field(default_factory=list)


def _format(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    if len(unit) == 3 and unit.isupper():
        return f"{unit} {value:,.2f}"
    if unit == "%":
        return f"{value:.2f} %"
    if unit in ("units", "item-locations", "approved orders"):
        return f"{value.normalize():,f} {unit}"
    return f"{value.quantize(Decimal('0.01')):,} {unit}".strip()


def _label(query: Query, base: Query) -> str:
    """What a reading changes, in words: "item ACME-1011 (Hand sanitizer 100 ml)"."""
    changed = [f for f in query.filters if f not in base.filters]
    parts = [f"{f.kind} {f.label}" for f in changed]
    if query.currency != base.currency:
        parts.append(f"in {query.currency}")
    if query.as_of != base.as_of:
        parts.append(f"as of {query.as_of.isoformat()}")
    return ", ".join(parts) or METRICS[query.metric].title


def _changes(query: Query, readings: list[Reading], vocab: Vocabulary) -> list[dict]:
    """The other readings of the question, then one-click changes of currency and date."""
    out = []
    for reading in readings[1:3]:
        out.append(
            {
                "label": "Or: " + _label(reading.query, query),
                "query": reading.query.as_dict(),
                "kind": reading.alternatives_of or "reading",
            }
        )
    metric = METRICS[query.metric]
    if metric.kind == "money":
        currencies = sorted(
            {t.key for t in vocab.terms if t.kind == "currency"}
            & {"USD", "EUR", "GBP", vocab.reporting}
            | {vocab.reporting}
        )
        for code in currencies:
            if code != (query.currency or vocab.reporting):
                changed = query.with_(currency=code)
                out.append({"label": f"in {code}", "query": changed.as_dict(), "kind": "currency"})
    if not metric.period:
        for days, label in ((7, "a week earlier"), (28, "four weeks earlier")):
            changed = query.with_(as_of=query.as_of - timedelta(days=days), date_said="")
            out.append(
                {
                    "label": f"{label} ({changed.as_of.isoformat()})",
                    "query": changed.as_dict(),
                    "kind": "date",
                }
            )
    for f in query.filters:
        without = query.with_(filters=tuple(x for x in query.filters if x != f))
        out.append(
            {"label": f"without {f.kind} {f.label}", "query": without.as_dict(), "kind": f.kind}
        )
    return out


def _table(result: Result) -> dict | None:
    if not result.rows:
        return None
    keys = list(dict.fromkeys(k for row in result.rows for k in row))
    return {
        "figure": "query",
        "columns": keys,
        "rows": [[r.get(k, "") for k in keys] for r in result.rows[:200]],
    }


def supported(query: Query) -> tuple[Query, list]:
    """``query`` without the filters its metric's selector cannot apply, and those."""
    allowed = METRICS[query.metric].filterable
    dropped = [f for f in query.filters if f.kind not in allowed]
    if not dropped:
        return query, []
    return query.with_(filters=tuple(f for f in query.filters if f.kind in allowed)), dropped


@dataclass
class Part:
    """One metric of the answer: what was computed (after dropping what its selector
    cannot narrow to), its result, and its sentences; ``error`` when it could not be."""

    query: Query
    restatement: str = ""
    result: Result | None = None
    sentences: list[str] = field(default_factory=list)
    dropped: list = field(default_factory=list)
    error: str = ""


def _part(asked: Query, scope: FinanceScope, reporting: str) -> Part:
    query, dropped = supported(asked)
    part = Part(query=query, dropped=dropped)
    title = METRICS[query.metric].title
    try:
        result = query_run(query, scope=scope)
    except ApplicationError as exc:
        part.restatement = restatement(query, reporting=reporting)
        part.error = exc.message
        part.sentences.append(
            f"{part.restatement}: I cannot give the {title.lower()}: {exc.message.rstrip('.')}. "
            "Ask for a date the data covers."
        )
        return part
    part.result = result
    own = result.unit if result.converted else ""
    said = part.restatement = restatement(
        query, reporting=reporting, latest=result.latest, own_currency=own
    )
    if result.value is None:
        part.sentences.append(f"{said}: — ({result.note or 'no data'}).")
    else:
        stated = _format(result.value, result.unit)
        if result.converted:
            stated += f" ({_format(*result.converted)} at closing rates)"
        part.sentences.append(f"{said}: {stated}.")
        if result.note:
            part.sentences.append(f"Note: {result.note}.")
    if dropped:
        names = ", ".join(f"{f.kind} {f.key}" for f in dropped)
        plain = restatement(query, reporting=reporting, own_currency=own)
        part.restatement = said = said.replace(
            plain, plain + f", all items and locations (not {names})"
        )
        part.sentences[0] = part.sentences[0].replace(part.sentences[0].split(": ")[0], said, 1)
        part.sentences.append(
            f"Not narrowed to {names}: the {title} cannot be narrowed to "
            + " or ".join(sorted({f.kind for f in dropped}))
            + ", so it is for every one you may see."
        )
    part.sentences.extend(result.lines)
    if result.unit == "item-locations" and result.rows:
        listed = "; ".join(f"{r['item']} at {r['location']}" for r in result.rows[:10])
        more = f" and {len(result.rows) - 10} more" if len(result.rows) > 10 else ""
        part.sentences.append(f"{listed}{more}.")
    if result.unit == "approved orders" and result.rows:
        part.sentences.append(
            "; ".join(
                f"proposal #{r['proposal']} approved by {r['approver']} at {r['at']}"
                for r in result.rows[:10]
            )
            + "."
        )
    if result.rows and result.unit not in ("item-locations", "approved orders") and query.group_by:
        part.sentences.append(
            "; ".join(
                f"{r['group']}: {_format(Decimal(r['value']), r.get('currency') or result.unit)}"
                for r in result.rows[:12]
            )
            + "."
        )
    return part


def answer_query(
    query: Query,
    *,
    scope: FinanceScope,
    readings: list[Reading] | None = None,
    vocab: Vocabulary | None = None,
    more: list[Query] | tuple = (),
) -> QueryAnswer:
    """The answer to ``query`` (and to the further metrics ``more`` of the same question):
    each opens with its restatement; a metric that cannot be computed says why and does
    not drop the others."""
    reporting = settings.SMI_REPORTING_CURRENCY
    parts = [_part(q, scope, reporting) for q in (query, *more)]
    sentences = [s for part in parts for s in part.sentences]
    changes = _changes(
        query, readings or [Reading(query, 1.0)], vocab or Vocabulary(reporting=reporting)
    )
    if readings and len(readings) > 1:
        sentences.append(
            "I read the question this way; other readings: "
            + "; ".join(c["label"][4:] for c in changes if c["label"].startswith("Or: "))
            + "."
        )
    first = parts[0]
    return QueryAnswer(
        text="\n\n".join(sentences),
        restatement=first.restatement,
        query=first.query,
        result=first.result,
        readings=changes,
        governing_topic=METRICS[query.metric].governing,
        parts=parts,
    )


ACTIONS = {
    "approved": ("proposal.approve",),
    "approve": ("proposal.approve",),
    "overrode": ("proposal.approve",),
    "overridden": ("proposal.approve",),
    "override": ("proposal.approve",),
    "proposed": ("proposal.create", "proposal.propose"),
    "propose": ("proposal.create", "proposal.propose"),
    "created": ("proposal.create", "proposal.propose"),
    "shipped": ("shipment.create", "proposal.status"),
    "ship": ("shipment.create", "proposal.status"),
    "confirmed": ("order.confirm",),
    "rejected": ("proposal.reject", "proposal.status"),
}


def answer_audit(audit: Audit, *, scope: FinanceScope) -> QueryAnswer:
    """Who did it and when, from the audit trail, for an order the asker may see."""
    qs = scope.proposals(ReplenishmentProposal.objects.all())
    what = (
        f"PO {audit.po_number}"
        if audit.po_number
        else f"proposal #{audit.proposal}"
        if audit.proposal
        else ""
    )
    if not what:
        return QueryAnswer(
            text='I could not tell which order or proposal you mean: name it by its PO number (e.g. SMI0000023) or as "proposal 23".'
        )
    order = (
        qs.filter(po_number=audit.po_number) if audit.po_number else qs.filter(pk=audit.proposal)
    ).first()
    if order is None:
        return QueryAnswer(text=f"There is no {what} among the orders you may see.")
    events = AuditEvent.objects.filter(object_type="proposal", object_id=str(order.pk)).order_by(
        "at", "id"
    )
    verb = audit.action
    wanted = ACTIONS.get(verb, ())
    found = []
    for event in events:
        after = event.after or {}
        if event.action not in wanted:
            continue
        if (
            event.action == "proposal.status"
            and verb in ("shipped", "ship")
            and after.get("status") != "shipped"
        ):
            continue
        if (
            event.action == "proposal.status"
            and verb == "rejected"
            and after.get("status") != "rejected"
        ):
            continue
        if verb.startswith("overr") and not after.get("override"):
            continue
        found.append(
            {
                "actor": event.actor,
                "at": event.at.isoformat(timespec="seconds"),
                "action": event.action,
                "event": event.pk,
            }
        )
    if verb in ("proposed", "propose", "created") and not found:
        who = getattr(order, "proposed_by", None) or getattr(order, "created_by", None)
        if who:
            found.append(
                {
                    "actor": str(who),
                    "at": order.created_at.isoformat(timespec="seconds"),
                    "action": "created",
                    "event": None,
                }
            )
    said = f"Audit trail of {what} (proposal #{order.pk}, {order.supplier.code} to {order.buyer.code}, now {order.status}), who {verb}"
    if not found:
        text = f"{said}: nobody — the audit trail has no such event for it."
    else:
        text = (
            f"{said}: "
            + "; ".join(
                f"{f['actor']} at {f['at']} (audit event #{f['event']}, {f['action']})"
                if f["event"]
                else f"{f['actor']} at {f['at']}"
                for f in found
            )
            + "."
        )
    return QueryAnswer(text=text, restatement=said, audit=found)


_vocab_cache: dict = {}


def vocabulary_cached(party_ids) -> Vocabulary:
    """The vocabulary per scope, rebuilt when items, locations, parties or agreements
    change (their counts and latest ids)."""
    from django.db.models import Count, Max

    from smi_core.models import Item, Location, Party, SupplyAgreement

    stamp = tuple(
        tuple(m.objects.aggregate(n=Count("pk"), m=Max("pk")).values())
        for m in (Item, Location, Party, SupplyAgreement)
    )
    key = (
        frozenset(party_ids) if party_ids is not None else None,
        stamp,
        settings.SMI_REPORTING_CURRENCY,
    )
    found = _vocab_cache.get(key)
    if found is None:
        _vocab_cache.clear()
        found = _vocab_cache[key] = vocabulary_for(
            frozenset(party_ids) if party_ids is not None else None
        )
    return found


def question_parse(
    question: str, *, party_ids, today: date, default: date | None = None
) -> tuple[Parse, Vocabulary]:
    vocab = vocabulary_cached(party_ids)

    def embed(text: str):
        found = examples_embedder()
        return found(text) if found else None

    return parse(question, vocab, today=today, embed=embed, default=default), vocab
