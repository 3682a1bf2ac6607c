"""The clause store stays in step with the database: re-indexing adds before it deletes, so
a failed add leaves the previous clauses searchable, and deleting an agreement or one of
its documents deletes their vectors."""

from __future__ import annotations

from datetime import date

import pytest

from reporting_assistant import embeddings
from reporting_assistant.embeddings import OfflineEmbeddings
from reporting_assistant.models import AgreementClause, AgreementDocument
from reporting_assistant.store import agreement_index, clause_store, clauses_search
from smi_core.models import Party, SupplyAgreement
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db

FIRST_TEXT = """# Agreement: Acme Supply and Demo Retail

## 4. Payment terms
Buyer pays each invoice within 14 days of the end of the week in which the goods sold.

## 7. Obsolete stock
Consigned stock that has not sold for 26 weeks is returned to Supplier at Supplier's cost.
"""

# clause 4 changes, clause 7 stays, clause 9 is new
SECOND_TEXT = """# Agreement: Acme Supply and Demo Retail

## 4. Payment terms
Buyer pays each invoice within 60 days of delivery, in US dollars.

## 7. Obsolete stock
Consigned stock that has not sold for 26 weeks is returned to Supplier at Supplier's cost.

## 9. Audits
Supplier may audit the store's stock records once a quarter, on ten days' notice.
"""

PAYMENT_QUESTION = "Within how many days does the Buyer pay an invoice?"


class FailsOnAudits(OfflineEmbeddings):
    """The real model, which fails (as a crashed model or a full disk would) on the text
    of one clause."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if any("audit" in t.lower() for t in texts):
            raise RuntimeError("the embedding model failed")
        return super().embed_documents(texts)


@pytest.fixture
def agreement(settings, tmp_path) -> SupplyAgreement:
    settings.CHROMA_URL = ""
    settings.SMI_CHROMA_DIR = tmp_path / "chroma"
    return SupplyAgreement.objects.create(
        code="acme-retail",
        buyer=PartyFactory(code="demo-retail"),
        supplier=PartyFactory(code="acme-supply", role=Party.Role.SUPPLIER),
        currency="USD",
        effective_from=date(2026, 1, 1),
        text=FIRST_TEXT,
    )


def store_ids(code: str) -> set[str]:
    return set(clause_store().get(where={"agreement": code}, include=[])["ids"])


def db_ids(agreement: SupplyAgreement) -> set[str]:
    return set(
        AgreementClause.objects.filter(agreement=agreement).values_list("vector_id", flat=True)
    )


def payment_clause_text(agreement: SupplyAgreement) -> str:
    hits = clauses_search(PAYMENT_QUESTION, agreements=[agreement.code], k=1)
    assert hits, "no clause found"
    assert hits[0].clause.number == "4"
    return hits[0].clause.text


def test_reindexing_replaces_changed_clauses_in_the_store(agreement):
    assert agreement_index(agreement_id=agreement.pk) == 2
    first = db_ids(agreement)
    assert store_ids(agreement.code) == first

    agreement.text = SECOND_TEXT
    agreement.save()
    assert agreement_index(agreement_id=agreement.pk) == 3

    second = db_ids(agreement)
    assert store_ids(agreement.code) == second
    assert len(first & second) == 1  # the unchanged clause 7 kept its id and its vector
    assert "60 days" in payment_clause_text(agreement)


def test_a_failed_add_leaves_the_previous_clauses_searchable(agreement, monkeypatch):
    agreement_index(agreement_id=agreement.pk)
    first = db_ids(agreement)
    agreement.text = SECOND_TEXT
    agreement.save()
    monkeypatch.setattr(embeddings, "embeddings_default", lambda name=None: FailsOnAudits())

    with pytest.raises(RuntimeError, match="the embedding model failed"):
        agreement_index(agreement_id=agreement.pk)

    monkeypatch.undo()
    assert db_ids(agreement) == first
    assert store_ids(agreement.code) == first
    assert "14 days" in payment_clause_text(agreement)


def test_deleting_an_agreement_deletes_its_vectors(agreement):
    other = SupplyAgreement.objects.create(
        code="acme-other",
        buyer=agreement.buyer,
        supplier=agreement.supplier,
        currency="USD",
        effective_from=date(2026, 1, 1),
        text=SECOND_TEXT,
    )
    agreement_index(agreement_id=agreement.pk)
    agreement_index(agreement_id=other.pk)
    assert len(store_ids(agreement.code)) == 2

    agreement.delete()

    assert store_ids("acme-retail") == set()
    assert clauses_search(PAYMENT_QUESTION, agreements=["acme-retail"]) == []
    assert store_ids(other.code) == db_ids(other) != set()


def test_deleting_a_document_deletes_its_vectors(agreement):
    document = AgreementDocument.objects.create(
        agreement=agreement, file_name="audits.md", sha256="0" * 64, text=SECOND_TEXT
    )
    agreement_index(agreement_id=agreement.pk)
    from_text = set(
        AgreementClause.objects.filter(agreement=agreement, document=None).values_list(
            "vector_id", flat=True
        )
    )
    assert len(store_ids(agreement.code)) == 5

    document.delete()

    assert store_ids(agreement.code) == from_text == db_ids(agreement)
