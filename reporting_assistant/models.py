"""What the assistant knows and what it was asked: agreement clauses (from the agreement's
text and uploaded files) and a record of every question and answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AgreementDocument(models.Model):
    """A file uploaded for an agreement (Markdown, text or PDF), kept with its text."""

    agreement = models.ForeignKey(
        "smi_core.SupplyAgreement", on_delete=models.CASCADE, related_name="documents"
    )
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    text = models.TextField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement__code", "file_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "sha256"], name="one_copy_of_a_document_per_agreement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agreement.code}: {self.file_name}"


class AgreementClause(models.Model):
    """One clause, as indexed in the vector store (its id there is ``vector_id``)."""

    agreement = models.ForeignKey(
        "smi_core.SupplyAgreement", on_delete=models.CASCADE, related_name="clauses"
    )
    document = models.ForeignKey(
        AgreementDocument, on_delete=models.CASCADE, null=True, blank=True, related_name="clauses"
    )
    number = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    topic = models.CharField(max_length=30, db_index=True)
    text = models.TextField()
    vector_id = models.CharField(max_length=120, unique=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agreement__code", "document_id", "id"]

    def __str__(self) -> str:
        return f"{self.agreement.code} clause {self.number} {self.title}"

    @property
    def source(self) -> str:
        return self.document.file_name if self.document_id else "agreement text"


class AssistantQuestion(models.Model):
    """Every question and its answer: who asked, when, the figures, the clauses cited, the
    model that phrased it (or the template), and how long it took."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(auto_now_add=True, db_index=True)
    question = models.TextField()
    intent = models.JSONField(default=dict)
    answer = models.TextField()
    figures = models.JSONField(default=list)
    clause_ids = models.JSONField(default=list)
    model = models.CharField(max_length=120, help_text="template, or the LLM that phrased it")
    fallback_reason = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-asked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} at {self.asked_at:%Y-%m-%d %H:%M}: {self.question[:60]}"
