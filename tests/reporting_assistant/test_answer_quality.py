"""The assistant's answers, not just its retriever, cite the right clause for the
evaluation set: at least 90 % of the plain questions and 75 % of the paraphrased ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from reporting_assistant.answering import assistant_ask
from smi_core.management.commands.demo_load import _ensure_locations
from smi_core.services.agreements import agreements_import
from smi_core.services.items import items_import
from smi_edi.services.partners import partner_add
from tests.orders import person

pytestmark = pytest.mark.django_db
SAMPLES = Path(django_settings.BASE_DIR) / "samples"


def test_answers_cite_the_expected_clause(settings, tmp_path):
    settings.SMI_CHROMA_DIR = tmp_path / "chroma"
    partner_add(code="acme-supply", name="Acme Supply", isa="ZZ:ACMESUPPLY", role="supplier")
    for code, name, isa in (
        ("demo-retail", "Demo Retail", "ZZ:DEMORETAIL"),
        ("city-mart", "City Mart", "ZZ:CITYMART"),
        ("acme-stores-eu", "Acme Stores Europe", "ZZ:ACMESTORESEU"),
    ):
        partner_add(code=code, name=name, isa=isa)
    _ensure_locations()
    items_import(text=(SAMPLES / "items.csv").read_text())
    agreements_import(path=SAMPLES / "agreements.json")  # indexes the clauses on commit
    auditor = person("aud", "auditor")
    questions = json.loads(
        (
            Path(django_settings.BASE_DIR) / "reporting_assistant" / "eval" / "questions.json"
        ).read_text()
    )

    hits = {"plain": [], "paraphrased": []}
    for q in questions:
        answer = assistant_ask(user=auditor, question=q["question"])
        cited = {(c.agreement, c.number) for c in answer.citations}
        hits[q["kind"]].append((q["agreement"], q["clause"]) in cited)

    plain = sum(hits["plain"]) / len(hits["plain"])
    paraphrased = sum(hits["paraphrased"]) / len(hits["paraphrased"])
    assert len(hits["plain"]) >= 20 and len(hits["paraphrased"]) >= 20
    assert plain >= 0.90, f"plain {plain:.0%}"
    assert paraphrased >= 0.75, f"paraphrased {paraphrased:.0%}"
