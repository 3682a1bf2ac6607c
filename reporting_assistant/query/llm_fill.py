"""The optional LLM fills the same query model: one tool, ``finance_query``, whose JSON
schema is the :class:`Query` (metric from the catalogue, filters by the data's own codes,
dates, reporting currency). What it fills is checked against the catalogue and the
vocabulary (a code it invents is refused) before anything is computed; the figure is then
computed by the selectors like any other reading."""

from __future__ import annotations

from datetime import date

from reporting_assistant.query.model import DIMENSIONS, METRICS, Query
from reporting_assistant.query.vocabulary import Vocabulary

TOOL = "finance_query"
SCHEMA = {
    "title": TOOL,
    "description": "The finance figure a question asks for, as a query the selectors compute.",
    "type": "object",
    "properties": {
        "metric": {"type": "string", "enum": list(METRICS)},
        "as_of": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
        "start": {"type": ["string", "null"], "format": "date"},
        "end": {"type": ["string", "null"], "format": "date"},
        "currency": {
            "type": ["string", "null"],
            "description": "ISO code of the currency to report in (not a filter)",
        },
        "filters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {
                        "type": "string",
                        "enum": ["supplier", "buyer", "item", "location", "agreement"],
                    },
                    "key": {"type": "string", "description": "the code, as in the data"},
                },
                "required": ["kind", "key"],
            },
        },
        "group_by": {"type": "array", "items": {"type": "string", "enum": list(DIMENSIONS)}},
        "weeks": {"type": ["integer", "null"], "minimum": 1, "maximum": 104},
    },
    "required": ["metric", "as_of"],
}
SYSTEM = (
    "Turn the finance question into one call of the finance_query tool. Use only the codes "
    "listed; 'in euros' or 'in USD' is the currency to report in. Today is {today}; a "
    "question that names no date is as of {default}. Codes: {codes}"
)


def _codes(vocab: Vocabulary) -> str:
    seen = dict.fromkeys(f"{t.kind}:{t.key}" for t in vocab.terms if t.kind != "currency")
    return ", ".join(list(seen)[:400])


def llm_query(
    llm, question: str, *, vocab: Vocabulary, today: date, default: date | None = None
) -> tuple[Query | None, str]:
    """The query the LLM fills for ``question``, or None and the reason it was refused."""
    from langchain_core.messages import HumanMessage, SystemMessage

    try:
        bound = llm.bind_tools([SCHEMA], tool_choice=TOOL)
        reply = bound.invoke(
            [
                SystemMessage(
                    SYSTEM.format(
                        today=today.isoformat(),
                        default=(default or today).isoformat(),
                        codes=_codes(vocab),
                    )
                ),
                HumanMessage(question),
            ]
        )
    except Exception as exc:
        return None, f"the LLM failed: {type(exc).__name__}"
    calls = [c for c in getattr(reply, "tool_calls", None) or [] if c.get("name") == TOOL]
    if not calls:
        return None, "the LLM did not fill the query"
    args = calls[0].get("args") or {}
    labels = {(t.kind, t.key): t.label for t in vocab.terms}
    filters = []
    for f in args.get("filters") or []:
        key = (f.get("kind"), f.get("key"))
        if key not in labels:
            return None, f"the LLM named {key[0]} {key[1]!r}, which is not in the data you may see"
        filters.append({"kind": key[0], "key": key[1], "label": labels[key]})
    try:
        query = Query.from_dict({**args, "filters": filters})
    except (ValueError, TypeError, KeyError) as exc:
        return None, f"the LLM's query is not valid: {exc}"
    if query.as_of is None:
        return None, "the LLM gave no date"
    return query, ""
