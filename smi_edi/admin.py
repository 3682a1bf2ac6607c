"""Admin for EDI operators: partners, interchanges (raw file, 997, reprocess), sets."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from smi_core.admin_audit import NoRevertHistoryAdmin
from smi_core.exceptions import ApplicationError
from smi_core.services.audit import Actor
from smi_core.services.import_rows import isa_id_problem
from smi_edi.models import (
    ControlNumberSequence,
    DeliveryAttempt,
    InboundSet,
    Interchange,
    InterchangeStatusChange,
    OutboundDocument,
    RefusedInterchange,
    TradingPartner,
    WebhookDelivery,
)
from smi_edi.services.interchanges import interchange_reprocess
from smi_edi.services.outbound import outbound_enqueue, outbound_resend
from smi_edi.services.raw_store import raw_path
from smi_edi.services.webhooks import webhook_redeliver


class TradingPartnerForm(forms.ModelForm):
    """The same id rules as ``partner_add``: what we write into ISA/GS must be printable
    ASCII without our delimiters, and the delimiters must differ from each other."""

    class Meta:
        model = TradingPartner
        fields = [  # webhook_secret is shown once by partner_add, never on a page
            f.name
            for f in TradingPartner._meta.get_fields()
            if getattr(f, "editable", False)
            and not f.auto_created
            and f.concrete
            and f.name not in ("webhook_secret", "created_at")
        ]

    def clean(self):
        data = super().clean()
        checks = [
            ("isa_qualifier", "ISA qualifier", True),
            ("isa_id", "ISA id", True),
            ("gs_id", "GS id", False),
        ]
        for field, what, required in checks:
            value = data.get(field) or ""
            if not value and not required:
                continue
            problem = isa_id_problem(value, what=what)
            if problem is None and field == "isa_qualifier" and len(value) != 2:
                problem = f"ISA qualifier {value!r} must have 2 characters (e.g. ZZ, 01, 14)"
            if problem:
                self.add_error(field, problem)
        version = data.get("x12_version") or ""
        if version and not (version.isascii() and version.isalnum() and len(version) <= 12):
            self.add_error(
                "x12_version", f"{version!r} is not a GS08 version (1 to 12 letters or digits)"
            )
        separators = {
            name: data.get(name) or ""
            for name in (
                "element_separator",
                "component_separator",
                "segment_terminator",
                "repetition_separator",
            )
        }
        for name, char in separators.items():
            newline_ok = name == "segment_terminator" and char == "\n"
            if char and not newline_ok and (not "!" <= char <= "~" or char.isalnum()):
                self.add_error(name, f"{char!r} cannot be a delimiter: use punctuation")
        used = [c for c in separators.values() if c]
        if len(used) != len(set(used)):
            self.add_error(
                None, "the element, component, segment and repetition delimiters must differ"
            )
        return data


@admin.register(TradingPartner)
class TradingPartnerAdmin(NoRevertHistoryAdmin):
    form = TradingPartnerForm
    list_display = [
        "party",
        "isa_qualifier",
        "isa_id",
        "gs_id",
        "x12_version",
        "ack_type",
        "cadence",
        "auto_register",
        "is_active",
        "ack_window_hours",
    ]
    list_filter = ["is_active", "ack_type", "cadence", "party__role"]
    search_fields = ["party__code", "party__name", "isa_id", "gs_id"]
    raw_id_fields = ["api_user"]
    exclude = ["webhook_secret"]  # shown once by partner_add; never on a page


class InboundSetInline(admin.TabularInline):
    model = InboundSet
    extra = 0
    can_delete = False
    fields = [
        "set_id",
        "control_number",
        "functional_id",
        "version",
        "status",
        "applied_at",
        "activity_rows",
        "period_start",
        "period_end",
        "errors",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = InterchangeStatusChange
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "actor", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Interchange)
class InterchangeAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "received_at",
        "sender_isa",
        "receiver_isa",
        "control_number",
        "status",
        "duplicate_flag",
        "sets_accepted",
        "sets_rejected",
        "activity_rows",
        "transport",
    ]
    list_filter = ["status", "transport", "sender", ("duplicate_of", admin.EmptyFieldListFilter)]
    search_fields = ["control_number", "sender_isa", "receiver_isa", "sha256", "source_name"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in Interchange._meta.fields] + ["raw_download", "ack_text"]
    exclude = ["ack"]
    inlines = [InboundSetInline, StatusChangeInline]
    actions = ["reprocess"]

    def has_add_permission(self, request):
        return False  # interchanges come in through the API, drop folders and x12_ingest

    def has_delete_permission(self, request, obj=None):
        return False  # raw inbound bytes are evidence

    @admin.display(boolean=True, description="duplicate")
    def duplicate_flag(self, obj):
        return obj.duplicate_of_id is not None

    @admin.display(description="raw file")
    def raw_download(self, obj):
        url = reverse("admin:smi_edi_interchange_raw", args=[obj.pk])
        return format_html(
            '<a href="{}">download {} bytes</a> (sha256 {})', url, obj.size, obj.sha256
        )

    @admin.display(description="acknowledgment sent")
    def ack_text(self, obj):
        if not obj.ack:
            return "-"
        url = reverse("admin:smi_edi_interchange_ack", args=[obj.pk])
        return format_html(
            '<a href="{}">download</a><pre style="white-space:pre-wrap">{}</pre>', url, obj.ack
        )

    def get_urls(self):
        return [
            path(
                "<int:pk>/raw/",
                self.admin_site.admin_view(self.raw_view),
                name="smi_edi_interchange_raw",
            ),
            path(
                "<int:pk>/ack/",
                self.admin_site.admin_view(self.ack_view),
                name="smi_edi_interchange_ack",
            ),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied  # as the admin's own pages answer: 403, not 404
        obj = self.get_object(request, pk)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return FileResponse(
            open(raw_path(obj.raw_file), "rb"),
            as_attachment=True,
            filename=f"interchange-{obj.pk}.x12",
        )

    def ack_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, pk)
        if obj is None or not obj.ack or not self.has_view_permission(request, obj):
            raise Http404
        response = HttpResponse(obj.ack, content_type="application/edi-x12")
        response["Content-Disposition"] = f'attachment; filename="interchange-{obj.pk}-ack.x12"'
        return response

    @admin.action(
        description="Process the selected failed interchanges again", permissions=["change"]
    )
    def reprocess(self, request, queryset):
        for interchange in queryset:
            try:
                interchange_reprocess(
                    interchange=interchange, actor=f"user:{request.user.get_username()}"
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(
                    request, f"interchange #{interchange.pk} queued again", messages.SUCCESS
                )


@admin.register(RefusedInterchange)
class RefusedInterchangeAdmin(admin.ModelAdmin):
    """Files a partner sent in someone else's name: kept for operators, apart from
    interchanges, so that they never count against the real sender's control numbers."""

    list_display = [
        "id",
        "received_at",
        "submitted_as",
        "sender_isa",
        "receiver_isa",
        "control_number",
        "transport",
        "size",
    ]
    list_filter = ["submitted_as", "transport"]
    search_fields = ["control_number", "sender_isa", "receiver_isa", "sha256", "source_name"]
    date_hierarchy = "received_at"
    list_select_related = ["submitted_as__party"]
    readonly_fields = [f.name for f in RefusedInterchange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the attempt is evidence


@admin.register(ControlNumberSequence)
class ControlNumberSequenceAdmin(admin.ModelAdmin):
    list_display = ["partner_key", "kind", "last_value", "updated_at"]
    readonly_fields = ["partner_key", "kind", "last_value", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["at", "channel", "target", "ok", "http_status", "detail"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboundDocument)
class OutboundDocumentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "set_id",
        "partner",
        "interchange_control_number",
        "group_control_number",
        "set_control_number",
        "status",
        "ack_status",
        "order_po",
        "shipment",
        "created_at",
        "sent_at",
        "resent_from",
    ]
    list_filter = ["set_id", "status", "ack_status", "partner"]
    search_fields = [
        "interchange_control_number",
        "group_control_number",
        "order__po_number",
        "shipment__shipment_number",
        "sha256",
    ]
    date_hierarchy = "created_at"
    exclude = ["segments"]
    readonly_fields = [f.name for f in OutboundDocument._meta.fields if f.name != "segments"] + [
        "x12_text"
    ]
    inlines = [DeliveryAttemptInline]
    actions = ["resend", "deliver_now"]

    def has_add_permission(self, request):
        return False  # documents come from orders and shipments

    def has_delete_permission(self, request, obj=None):
        return False  # what we sent is evidence

    @admin.display(description="PO number", ordering="order__po_number")
    def order_po(self, obj):
        return obj.order.po_number if obj.order_id else "-"

    @admin.display(description="document as sent")
    def x12_text(self, obj):
        text = raw_path(obj.raw_file).read_bytes().decode("utf-8", errors="replace")
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)

    @admin.action(description="Resend (same content, new control numbers)", permissions=["change"])
    def resend(self, request, queryset):
        for document in queryset:
            try:
                new = outbound_resend(
                    document_id=document.pk, actor=Actor.user(request.user, request)
                )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(
                    request,
                    f"{document.set_id} #{document.pk} resent as #{new.pk} "
                    f"(ISA13 {new.interchange_control_number}, {new.status})",
                    messages.SUCCESS,
                )

    @admin.action(description="Try delivery again now", permissions=["change"])
    def deliver_now(self, request, queryset):
        for document in queryset.filter(status=OutboundDocument.Status.QUEUED):
            outbound_enqueue(document.pk)
            self.message_user(request, f"#{document.pk} queued for delivery", messages.INFO)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "partner", "order", "status", "attempts", "last_http_status"]
    list_filter = ["status", "event", "partner"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Deliver again", permissions=["change"])
    def redeliver(self, request, queryset):
        for delivery in queryset:
            webhook_redeliver(delivery_id=delivery.pk)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued", messages.INFO)


from smi_edi import admin_as2  # noqa: E402, F401  (AS2 profiles and messages)
