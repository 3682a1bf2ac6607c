"""The reporting date in the admin: one page (no list, no add, no delete), changed through
the audited service by users allowed to change it (the finance role, superusers)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from smi_core.exceptions import ApplicationError
from smi_core.models import ReportingDate
from smi_core.selectors.reporting_date import reporting_day
from smi_core.services.audit import Actor
from smi_core.services.reporting_date import reporting_date_check, reporting_date_set


def _in_effect() -> str:
    """``Figures without a date are as of 2026-11-08, the reporting date set by ...``"""
    return f"Figures without a date are {reporting_day().statement()}."


class ReportingDateForm(forms.ModelForm):
    class Meta:
        model = ReportingDate
        fields = ["date", "note"]

    def clean_date(self):
        day = self.cleaned_data.get("date")
        try:
            reporting_date_check(day)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from exc
        return day


@admin.register(ReportingDate)
class ReportingDateAdmin(admin.ModelAdmin):
    form = ReportingDateForm
    fields = ["date", "note", "in_effect", "set_by", "set_at_text"]
    readonly_fields = ["in_effect", "set_by", "set_at_text"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        # A reader without the right to change it sees the date as a date (2026-11-22), as
        # every page states it, not in the admin's locale format (Nov. 22, 2026).
        if self.has_change_permission(request, obj):
            return self.fields
        return ["date_text", *self.fields[1:]]

    def get_readonly_fields(self, request, obj=None):
        if self.has_change_permission(request, obj):
            return self.readonly_fields
        return self.get_fields(request, obj)

    def get_object(self, request, object_id, from_field=None):
        # The one row, before anyone set it too: the page opens on an empty date.
        if str(object_id) != "1":
            return None
        return ReportingDate.objects.filter(pk=1).first() or ReportingDate(pk=1)

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        return HttpResponseRedirect(reverse("admin:smi_core_reportingdate_change", args=[1]))

    @admin.display(description="in effect")
    def in_effect(self, obj):
        return f"{_in_effect()} An as-of date asked for always wins."

    @admin.display(description="date")
    def date_text(self, obj):
        return obj.date.isoformat() if obj.date else "— (today)"

    @admin.display(description="set at")
    def set_at_text(self, obj):
        return timezone.localtime(obj.set_at).strftime("%Y-%m-%d %H:%M") if obj.set_at else "—"

    def save_model(self, request, obj, form, change):
        saved = reporting_date_set(
            day=form.cleaned_data.get("date"),
            note=form.cleaned_data.get("note") or "",
            actor=Actor.user(request.user, request),
        )
        obj.set_by, obj.set_at = saved.set_by, saved.set_at

    def response_change(self, request, obj):
        # Back to the same page (there is no list), showing what is now in effect.
        self.message_user(request, f"Saved. {_in_effect()}")
        return HttpResponseRedirect(request.path)
