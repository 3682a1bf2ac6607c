"""Agreement clauses in Chroma, through LangChain (langchain-chroma).

Embedded by default (a directory under ``var/``); with ``CHROMA_URL`` set, the Chroma server
(``chroma run``), which several web processes and Celery workers must share: several
processes writing one embedded directory lose vectors. Telemetry is off either way.
Re-indexing an agreement replaces its clauses, in the database and in the store.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from django.conf import settings
from django.db import transaction

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
    digest = hashlib.sha256(text.encode()).hexdigest()[:10]
    return f"{agreement.code}:{source}:{number or n}:{digest}"[:120]


def agreement_index(*, agreement_id: int) -> int:
    """Split the agreement's text and its uploaded documents into clauses and replace what
    the store held for it; return the number of clauses."""
    agreement = SupplyAgreement.objects.select_related("supplier", "buyer").get(pk=agreement_id)
    sources: list[tuple[AgreementDocument | None, str]] = [(None, agreement.text or "")]
    sources += [(d, d.text) for d in agreement.documents.all()]
    rows: list[AgreementClause] = []
    seen: set[str] = set()
    for document, text in sources:
        source = f"doc{document.pk}" if document else "text"
        for n, clause in enumerate(split_clauses(text, agreement=agreement.code), start=1):
            vector_id = _vector_id(agreement, source, clause.number, n, clause.text)
            if vector_id in seen:
                continue
            seen.add(vector_id)
            rows.append(
                AgreementClause(
                    agreement=agreement,
                    document=document,
                    number=clause.number[:20],
                    title=clause.title[:200],
                    topic=clause.topic,
                    text=clause.text,
                    vector_id=vector_id,
                )
            )
    store = clause_store()
    with transaction.atomic():
        AgreementClause.objects.filter(agreement=agreement).delete()
        AgreementClause.objects.bulk_create(rows)
        old = store.get(where={"agreement": agreement.code}).get("ids", [])
        if old:
            store.delete(ids=old)
        if rows:
            store.add_texts(
                texts=[f"{r.title}. {r.text}" for r in rows],
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
    log.info("indexed %d clauses of agreement %s", len(rows), agreement.code)
    return len(rows)


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
