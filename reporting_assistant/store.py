"""Agreement clauses in Chroma, through LangChain (langchain-chroma).

Embedded by default (a directory under ``var/``); with ``CHROMA_URL`` set, the Chroma server
(``chroma run``), which several web processes and Celery workers must share: several
processes writing one embedded directory lose vectors. Telemetry is off either way
(``ANONYMIZED_TELEMETRY`` and ``ORT_DISABLE_TELEMETRY`` are forced, whatever the
environment said).

Re-indexing an agreement replaces its clauses, in the database and in the store, adding
the new vectors before deleting the old; deleting a clause row (with its agreement or its
document) deletes its vector after the commit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

# forced, not defaulted: set before chromadb and onnxruntime are imported (both lazily)
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from reporting_assistant.clauses import split_clauses
from reporting_assistant.models import AgreementClause, AgreementDocument
from smi_core.models import SupplyAgreement

log = logging.getLogger(__name__)
COLLECTION = "agreement_clauses"


@lru_cache(maxsize=4)
def _client(url: str, path: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 8000,
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
    os.makedirs(path, exist_ok=True)
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


def clause_store():
    """The LangChain vector store of clauses (cosine distance)."""
    from langchain_chroma import Chroma

    from reporting_assistant.embeddings import embeddings_default

    return Chroma(
        collection_name=COLLECTION,
        client=_client(settings.CHROMA_URL, str(settings.SMI_CHROMA_DIR)),
        embedding_function=embeddings_default(),
        collection_metadata={"hnsw:space": "cosine"},
    )


def _vector_id(agreement: SupplyAgreement, source: str, number: str, n: int, text: str) -> str:
    """A stable id: the same clause (same source, number and embedded text) keeps its id
    across re-indexing, and a changed clause gets a new one."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{agreement.code}:{source}:{number or n}:{digest}"[:120]


def _embedded_text(clause: AgreementClause) -> str:
    return f"{clause.title}. {clause.text}"


def _agreement_rows(agreement: SupplyAgreement) -> list[AgreementClause]:
    sources: list[tuple[AgreementDocument | None, str]] = [(None, agreement.text or "")]
    sources += [(d, d.text) for d in agreement.documents.all()]
    rows: list[AgreementClause] = []
    seen: set[str] = set()
    for document, text in sources:
        source = f"doc{document.pk}" if document else "text"
        for n, clause in enumerate(split_clauses(text, agreement=agreement.code), start=1):
            row = AgreementClause(
                agreement=agreement,
                document=document,
                number=clause.number[:20],
                title=clause.title[:200],
                topic=clause.topic,
                text=clause.text,
            )
            row.vector_id = _vector_id(agreement, source, clause.number, n, _embedded_text(row))
            if row.vector_id in seen:
                continue
            seen.add(row.vector_id)
            rows.append(row)
    return rows


def _forget(store, ids: set[str]) -> None:
    """Delete ``ids`` from the store, logging (not raising) a failure: the rows are gone
    from the database already, and clauses_search ignores ids it does not know."""
    if not ids:
        return
    try:
        store.delete(ids=sorted(ids))
    except Exception:
        log.exception("could not delete %d clause vectors from the store", len(ids))


def agreement_index(*, agreement_id: int) -> int:
    """Split the agreement's text and its uploaded documents into clauses and replace what
    the store held for it; return the number of clauses.

    Chroma is not in the database transaction, so the order makes a failure harmless: the
    new clause vectors are added (upserted) first; only when that worked are the rows
    replaced, and the vectors that are no longer clauses deleted after the commit. A failed
    add (the embedding model, the Chroma server) leaves the previous clauses in the
    database and searchable, and raises for the task to retry.
    """
    agreement = SupplyAgreement.objects.select_related("supplier", "buyer").get(pk=agreement_id)
    rows = _agreement_rows(agreement)
    new_ids = {r.vector_id for r in rows}
    store = clause_store()
    before = set(store.get(where={"agreement": agreement.code}, include=[]).get("ids", []))
    try:
        if rows:
            store.add_texts(  # an upsert: an unchanged clause keeps its id and its vector
                texts=[_embedded_text(r) for r in rows],
                metadatas=[
                    {
                        "agreement": agreement.code,
                        "supplier": agreement.supplier.code,
                        "buyer": agreement.buyer.code,
                        "number": r.number,
                        "title": r.title,
                        "topic": r.topic,
                        "source": r.source,
                    }
                    for r in rows
                ],
                ids=[r.vector_id for r in rows],
            )
        with transaction.atomic():
            # one re-index of an agreement at a time (a no-op on SQLite, which has one writer)
            SupplyAgreement.objects.select_for_update().filter(pk=agreement.pk).first()
            kept = dict(
                AgreementClause.objects.filter(agreement=agreement).values_list("vector_id", "pk")
            )
            # rows deleted here take their vectors with them on commit (clause_vectors_forget)
            AgreementClause.objects.filter(agreement=agreement).exclude(
                vector_id__in=new_ids
            ).delete()
            now = timezone.now()
            updated = []
            for row in rows:
                if row.vector_id in kept:
                    row.pk, row.indexed_at = kept[row.vector_id], now
                    updated.append(row)
            AgreementClause.objects.bulk_update(
                updated, ["document", "number", "title", "topic", "text", "indexed_at"]
            )
            AgreementClause.objects.bulk_create([r for r in rows if r.pk is None])
            # vectors of this agreement the database never knew (an earlier failed run)
            transaction.on_commit(lambda: _forget(store, before - new_ids))
    except Exception:
        _forget(store, new_ids - before)  # what this run added and nothing refers to
        raise
    log.info("indexed %d clauses of agreement %s", len(rows), agreement.code)
    return len(rows)


_pending = threading.local()


@receiver(post_delete, sender=AgreementClause, dispatch_uid="reporting_assistant.clause_vectors")
def clause_vectors_forget(sender, instance: AgreementClause, using: str, **kwargs) -> None:
    """A clause deleted from the database (its agreement or document deleted, or dropped by
    re-indexing) is deleted from the store once the deletion commits."""
    pending = getattr(_pending, "ids", None)
    if pending is None:
        pending = _pending.ids = set()
    pending.add(instance.vector_id)
    transaction.on_commit(_forget_pending, using=using)


def _forget_pending() -> None:
    ids = getattr(_pending, "ids", None)
    if not ids:
        return  # an earlier callback of the same commit did it
    _pending.ids = set()
    # a clause deleted and created again in the same transaction keeps its vector
    ids -= set(
        AgreementClause.objects.filter(vector_id__in=ids).values_list("vector_id", flat=True)
    )
    if not ids:
        return
    try:
        store = clause_store()
    except Exception:
        log.exception("could not open the store to delete %d clause vectors", len(ids))
        return
    _forget(store, ids)


@dataclass(frozen=True)
class Hit:
    clause: AgreementClause
    score: float  # cosine distance: lower is closer


def clauses_search(query: str, *, agreements: list[str], k: int = 3) -> list[Hit]:
    """The ``k`` clauses closest to ``query`` among ``agreements`` (codes)."""
    if not agreements:
        return []
    where = (
        {"agreement": agreements[0]}
        if len(agreements) == 1
        else {"agreement": {"$in": list(agreements)}}
    )
    found = clause_store().similarity_search_with_score(query, k=k, filter=where)
    ids = [doc.id for doc, _ in found if doc.id]
    clauses = {
        c.vector_id: c
        for c in AgreementClause.objects.filter(vector_id__in=ids).select_related(
            "agreement", "document"
        )
    }
    return [Hit(clauses[doc.id], float(score)) for doc, score in found if doc.id in clauses]
