"""Admin: upload agreement documents (Markdown, text, PDF), see the clauses indexed, and
every question asked with its answer."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages

from reporting_assistant.models import AgreementClause, AgreementDocument, AssistantQuestion


class DocumentUploadForm(forms.ModelForm):
    upload = forms.FileField(help_text="Markdown (.md), text (.txt) or PDF (.pdf).")

    class Meta:
        model = AgreementDocument
        fields = ["agreement"]

    def clean_upload(self):
        from reporting_assistant.clauses import document_text

        upload = self.cleaned_data["upload"]
        suffix = Path(upload.name).suffix.lower()
        data = upload.read()
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            handle.write(data)
            handle.flush()
            try:
                self.extracted = document_text(handle.name)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        if not self.extracted.strip():
            raise forms.ValidationError("no text could be read from that file")
        self.digest = hashlib.sha256(data).hexdigest()
        return upload


@admin.register(AgreementDocument)
class AgreementDocumentAdmin(admin.ModelAdmin):
    list_display = ["agreement", "file_name", "uploaded_by", "uploaded_at", "clause_count"]
    list_filter = ["agreement"]
    readonly_fields = ["file_name", "sha256", "text", "uploaded_by", "uploaded_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = DocumentUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["agreement", "upload"] if obj is None else super().get_fields(request, obj)

    @admin.display(description="clauses")
    def clause_count(self, obj):
        return obj.clauses.count()

    def save_model(self, request, obj, form, change):
        from reporting_assistant.services import document_add

        if change:
            return
        document = document_add(
            agreement=form.cleaned_data["agreement"],
            file_name=form.cleaned_data["upload"].name,
            text=form.extracted,
            sha256=form.digest,
            user=request.user,
        )
        obj.pk = document.pk
        self.message_user(
            request, f"{document.file_name} added; its clauses are being indexed", messages.INFO
        )


@admin.register(AgreementClause)
class AgreementClauseAdmin(admin.ModelAdmin):
    list_display = ["agreement", "number", "title", "topic", "source", "indexed_at"]
    list_filter = ["agreement", "topic"]
    search_fields = ["title", "text", "vector_id"]
    readonly_fields = [f.name for f in AgreementClause._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AssistantQuestion)
class AssistantQuestionAdmin(admin.ModelAdmin):
    list_display = ["asked_at", "user", "question", "model", "duration_ms"]
    list_filter = ["model", "user"]
    search_fields = ["question", "answer"]
    readonly_fields = [f.name for f in AssistantQuestion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
