"""Writes of the assistant app: adding an agreement document (then re-indexing)."""

from __future__ import annotations

from django.db import transaction

from reporting_assistant.models import AgreementDocument
from smi_core.services.audit import Actor, audit_record
from smi_core.services.hooks import agreements_changed


def document_add(*, agreement, file_name: str, text: str, sha256: str, user) -> AgreementDocument:
    """Keep an uploaded file's text with its agreement (once per content) and re-index the
    agreement's clauses after the commit."""
    with transaction.atomic():
        document, created = AgreementDocument.objects.get_or_create(
            agreement=agreement,
            sha256=sha256,
            defaults={"file_name": file_name[:255], "text": text, "uploaded_by": user},
        )
        if created:
            audit_record(
                actor=Actor.user(user),
                action="agreement.document_add",
                object_type="agreement",
                object_id=agreement.pk,
                after={"file": document.file_name, "sha256": sha256},
            )
            transaction.on_commit(lambda: agreements_changed(agreement_ids=[agreement.pk]))
    return document
