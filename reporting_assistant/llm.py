"""The optional LLM (an OpenAI-compatible endpoint or Ollama, through LangChain): it phrases
the answer from the computed facts and retrieved clauses, and may call two tools (a finance
figure, an agreement clause search) that run our own selectors. Its answer is checked: a
figure left out, or a clause cited that was not retrieved, and the templated answer stands.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from smi_core.exceptions import ApplicationError

SYSTEM = (
    "You write short answers for finance staff about supplier-managed inventory. Use only "
    "the facts and clauses you are given or that the tools return. Repeat every figure "
    "exactly as given, with its unit, and say how it was computed when asked. Cite a clause "
    "only with its marker, e.g. [acme-demo-retail §4]. Never invent a number or a clause."
)
MARKER = re.compile(r"\[([a-z0-9][a-z0-9\-_]*) §([0-9A-Za-z.]+)\]")


def llm_from_settings():
    """The chat model the settings name, or None when no LLM is configured."""
    provider = settings.SMI_LLM_PROVIDER
    if not provider:
        return None
    if provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise ImproperlyConfigured(
                "SMI_LLM_PROVIDER=openai needs `pip install langchain-openai`"
            ) from exc
        return ChatOpenAI(
            model=settings.SMI_LLM_MODEL or "gpt-4o-mini",
            base_url=settings.SMI_LLM_BASE_URL or None,
            api_key=settings.SMI_LLM_API_KEY or None,
            temperature=0,
            timeout=30,
        )
    if provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise ImproperlyConfigured(
                "SMI_LLM_PROVIDER=ollama needs `pip install langchain-ollama`"
            ) from exc
        return ChatOllama(
            model=settings.SMI_LLM_MODEL or "llama3.1",
            base_url=settings.SMI_LLM_BASE_URL or "http://127.0.0.1:11434",
            temperature=0,
        )
    raise ImproperlyConfigured(f"SMI_LLM_PROVIDER is openai, ollama or empty, not {provider!r}")


def _tools(scope, params: dict):
    from langchain_core.tools import tool

    from reporting_assistant.answering import facts_for
    from smi_core.selectors.finance.figures import FIGURES, figure_compute

    found = {"facts": [], "citations": []}

    @tool
    def finance_figure(name: str, supplier: str = "", buyer: str = "", currency: str = "") -> str:
        """Compute a finance figure (valuation, cashflow, owed, turnover, working-capital, fx,
        intercompany, service, scorecard, continuity) for an optional supplier, buyer and
        currency; returns the figure's facts with how each was computed."""
        if name not in FIGURES:
            return json.dumps({"error": f"no figure {name}; use one of {', '.join(FIGURES)}"})
        args = dict(params)
        args.update(
            {
                k: v
                for k, v in (("supplier", supplier), ("buyer", buyer), ("currency", currency))
                if v
            }
        )
        try:
            data = figure_compute(name, scope=scope, params=args)
        except ApplicationError as exc:
            return json.dumps({"error": exc.message})
        facts, sentence = facts_for(name, data, args)
        found["facts"] += facts
        return json.dumps({"facts": [f.as_dict() for f in facts], "summary": sentence})

    @tool
    def agreement_clauses(query: str, agreement: str) -> str:
        """Search the clauses of one agreement (by code); returns them with their markers."""
        from reporting_assistant.answering import Citation
        from reporting_assistant.store import clauses_search
        from smi_core.models import SupplyAgreement

        visible = SupplyAgreement.objects.filter(code=agreement)
        if scope.party_ids is not None:
            visible = visible.filter(supplier_id__in=scope.party_ids) | visible.filter(
                buyer_id__in=scope.party_ids
            )
        if not visible.exists():
            return json.dumps({"error": f"no agreement {agreement} you may see"})
        hits = clauses_search(query, agreements=[agreement], k=3)
        citations = [
            Citation(
                h.clause.vector_id,
                agreement,
                h.clause.number,
                h.clause.title,
                h.clause.text,
                h.clause.source,
            )
            for h in hits
        ]
        found["citations"] += citations
        return json.dumps([c.as_dict() for c in citations])

    return [finance_figure, agreement_clauses], found


def _mentions(text: str, value: str) -> bool:
    """Whether ``text`` states ``value`` (as written, or with thousands separators)."""
    if value in text:
        return True
    try:
        from decimal import Decimal

        number = Decimal(value)
    except ArithmeticError:
        return False
    return any(form in text for form in (f"{number:,.2f}", f"{number:,}", f"{number:,.4f}"))


def llm_phrase(llm, answer, *, scope, params: dict) -> tuple[str | None, str]:
    """(the LLM's text, "") when it passes the checks, else (None, why not)."""
    from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage

    tools, found = _tools(scope, params)
    by_name = {t.name: t for t in tools}
    try:
        bound = llm.bind_tools(tools)
    except (NotImplementedError, AttributeError):
        bound = llm
    facts = [f.as_dict() for f in answer.facts]
    clauses = [c.as_dict() for c in answer.citations]
    messages = [
        SystemMessage(SYSTEM),
        HumanMessage(
            f"Question: {answer.question}\n\nFacts (state each):\n{json.dumps(facts, indent=1)}\n\n"
            f"Clauses (cite with their markers):\n{json.dumps(clauses, indent=1)}"
        ),
    ]
    text = None
    try:
        for _ in range(4):
            reply = bound.invoke(messages)
            calls = getattr(reply, "tool_calls", None) or []
            if not calls:
                text = reply.content if isinstance(reply.content, str) else str(reply.content)
                break
            messages.append(reply)
            for call in calls:
                chosen = by_name.get(call["name"])
                result = (
                    chosen.invoke(call["args"])
                    if chosen
                    else json.dumps({"error": f"no tool {call['name']}"})
                )
                messages.append(ToolMessage(content=str(result), tool_call_id=call["id"]))
    except Exception as exc:
        return None, f"the LLM failed: {type(exc).__name__}: {exc}"[:300]
    if not text:
        return None, "the LLM gave no answer"
    required = answer.facts + found["facts"]
    missing = [f.label for f in required if not _mentions(text, f.value)]
    if missing:
        return None, f"the LLM's answer left out {', '.join(missing[:3])}"
    allowed = {c.marker for c in answer.citations + found["citations"]}
    cited = {f"[{a} §{n}]" for a, n in MARKER.findall(text)}
    unknown = cited - allowed
    if unknown:
        return None, f"the LLM cited clauses that were not retrieved: {', '.join(sorted(unknown))}"
    known = {c.marker for c in answer.citations}
    answer.facts += [f for f in found["facts"] if f.key not in {x.key for x in answer.facts}]
    answer.citations += [
        c for c in found["citations"] if c.marker in cited and c.marker not in known
    ]
    return text, ""
