"""The chat page: ask, read the answer with its table, chart and citations, open a cited
clause, and see your previous questions."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe

from reporting_assistant.models import AgreementClause, AssistantQuestion
from smi_core.exceptions import ApplicationError
from smi_core.selectors.finance import FinanceForbidden, FinanceScope


@login_required(login_url="/admin/login/")
def chat(request):
    from reporting_assistant.answering import EXAMPLES, assistant_ask
    from reporting_assistant.llm import llm_from_settings

    try:
        FinanceScope.for_user(request.user)
    except FinanceForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    answer = error = None
    if request.method == "POST":
        try:
            chosen = request.POST.get("query")  # a reading chosen with one click
            try:
                query = json.loads(chosen) if chosen else None
            except ValueError:
                raise ApplicationError("That reading is not one I can read.") from None
            answer = assistant_ask(
                user=request.user,
                question=request.POST.get("question", ""),
                llm=llm_from_settings() if query is None else None,
                query=query,
            )
        except ApplicationError as exc:
            error = exc.message
    history = AssistantQuestion.objects.filter(user=request.user)[:20]
    return render(
        request,
        "assistant/chat.html",
        {
            "answer": answer,
            "readings": [
                {**r, "json": json.dumps(r["query"])} for r in (answer.readings if answer else [])
            ],
            "chart": mark_safe(answer.chart) if answer and answer.chart else "",
            "error": error,
            "history": history,
            "examples": EXAMPLES,
        },
    )


@login_required(login_url="/admin/login/")
def clause(request, vector_id: str):
    try:
        scope = FinanceScope.for_user(request.user)
    except FinanceForbidden as exc:
        raise PermissionDenied(exc.message) from exc
    found = (
        AgreementClause.objects.select_related("agreement", "document")
        .filter(vector_id=vector_id)
        .first()
    )
    if found is None or not scope.allows(found.agreement.supplier_id, found.agreement.buyer_id):
        raise Http404("no such clause")
    return render(request, "assistant/clause.html", {"clause": found})
