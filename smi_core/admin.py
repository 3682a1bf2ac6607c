"""Admin for the SMI domain: parties, items, locations, activity, positions, exceptions."""

from __future__ import annotations

from django.contrib import admin, messages

from smi_core.admin_audit import NoRevertHistoryAdmin
from smi_core.admin_audit import ReadOnly as ReadOnlyAdmin
from smi_core.exceptions import ApplicationError
from smi_core.models import (
    AgreementTerm,
    ExceptionItem,
    ExchangeRate,
    FinanceAccess,
    InventoryPosition,
    Item,
    ItemCrossReference,
    Location,
    Party,
    PlanRun,
    ProductActivity,
    ProposalLine,
    ReplenishmentProposal,
    SeriesForecast,
    Shipment,
    ShipmentLine,
    ShipmentPack,
    SupplierCapacity,
    SupplyAgreement,
)
from smi_core.services.exceptions import exception_resolve


@admin.register(Party)
class PartyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "role", "gln", "duns"]
    list_filter = ["role"]
    search_fields = ["code", "name", "gln", "duns"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "party", "kind", "gln", "needs_review"]
    list_filter = ["party", "kind", "needs_review"]
    search_fields = ["code", "name", "gln", "duns"]


class CrossReferenceInline(admin.TabularInline):
    model = ItemCrossReference
    extra = 0


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = [
        "vendor_item",
        "gtin",
        "description",
        "supplier",
        "unit",
        "pack_size",
        "needs_review",
    ]
    list_filter = ["supplier", "needs_review", "unit"]
    search_fields = ["vendor_item", "gtin", "description", "cross_references__buyer_item"]
    inlines = [CrossReferenceInline]


@admin.register(ItemCrossReference)
class ItemCrossReferenceAdmin(admin.ModelAdmin):
    list_display = ["buyer", "buyer_item", "item"]
    list_filter = ["buyer"]
    search_fields = ["buyer_item", "item__vendor_item", "item__gtin"]


@admin.register(ProductActivity)
class ProductActivityAdmin(ReadOnlyAdmin):
    list_display = [
        "period_end",
        "location",
        "item",
        "activity_code",
        "quantity",
        "unit",
        "source_set",
        "segment_number",
    ]
    list_filter = ["activity_code", "location__party", "period_end"]
    search_fields = ["item__vendor_item", "item__gtin", "location__code"]
    list_select_related = ["location__party", "item", "source_set"]
    show_full_result_count = False


@admin.register(InventoryPosition)
class InventoryPositionAdmin(ReadOnlyAdmin):
    list_display = [
        "location",
        "item",
        "on_hand",
        "on_order",
        "in_transit",
        "committed",
        "sold_last_period",
        "as_of",
    ]
    list_filter = ["location__party", "item__supplier", "as_of"]
    search_fields = ["item__vendor_item", "item__gtin", "location__code", "location__name"]
    list_select_related = ["item__supplier", "location__party"]


@admin.register(ExceptionItem)
class ExceptionItemAdmin(admin.ModelAdmin):
    list_display = ["kind", "status", "partner", "subject", "occurrences", "last_seen", "action"]
    list_filter = ["status", "kind", "partner"]
    search_fields = ["subject", "message"]
    readonly_fields = [
        "kind",
        "partner",
        "subject",
        "message",
        "action",
        "details",
        "occurrences",
        "item",
        "location",
        "source_set",
        "first_seen",
        "last_seen",
        "status",
        "resolved_at",
        "resolved_by",
    ]
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark the selected exceptions resolved", permissions=["change"])
    def resolve(self, request, queryset):
        done = 0
        for exception in queryset:
            try:
                exception_resolve(
                    exception=exception,
                    actor=request.user,
                    note="resolved in the admin",
                    request=request,
                )
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(request, f"{done} exception(s) resolved", messages.SUCCESS)


# -- agreements and planning -----------------------------------------------------------------


class AgreementTermInline(admin.TabularInline):
    model = AgreementTerm
    extra = 0
    raw_id_fields = ["item", "location"]


@admin.register(SupplyAgreement)
class SupplyAgreementAdmin(NoRevertHistoryAdmin):
    list_display = [
        "code",
        "supplier",
        "buyer",
        "currency",
        "ownership",
        "intercompany",
        "service_level",
        "lead_time_days",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["ownership", "intercompany", "currency", "supplier", "buyer"]
    search_fields = ["code", "text"]
    inlines = [AgreementTermInline]

    def save_model(self, request, obj, form, change):
        from django.db import transaction

        from smi_core.services.agreements import agreement_save
        from smi_core.services.audit import Actor
        from smi_core.services.hooks import agreements_changed

        # History names the user (SOD-02) and the change is audited, in one transaction.
        agreement_save(obj=obj, actor=Actor.user(request.user, request), user=request.user)
        if "text" in form.changed_data or not change:
            # The assistant re-indexes the agreement's clauses after the commit.
            transaction.on_commit(lambda: agreements_changed(agreement_ids=[obj.pk]))

    def save_formset(self, request, form, formset, change):
        if formset.model is not AgreementTerm:
            return super().save_formset(request, form, formset, change)
        _terms_save(request, formset)

    def delete_model(self, request, obj):
        _agreement_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _agreement_delete(request, obj)


class AuditedChangesAdmin(NoRevertHistoryAdmin):
    """Terms and capacities: each save and delete goes through the agreements service (a
    history record naming the user for SOD-02, and an audit event)."""

    def save_model(self, request, obj, form, change):
        from smi_core.services.agreements import agreement_save
        from smi_core.services.audit import Actor

        agreement_save(obj=obj, actor=Actor.user(request.user, request), user=request.user)

    def delete_model(self, request, obj):
        _agreement_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            _agreement_delete(request, obj)


@admin.register(AgreementTerm)
class AgreementTermAdmin(AuditedChangesAdmin):
    list_display = [
        "agreement",
        "item",
        "location",
        "min_quantity",
        "max_quantity",
        "min_days",
        "max_days",
        "moq",
        "pack_multiple",
        "unit_cost",
        "lead_time_days",
    ]
    list_filter = ["agreement"]
    search_fields = ["item__vendor_item", "location__code"]
    raw_id_fields = ["item", "location"]


def _terms_save(request, formset) -> None:
    """The agreement page's terms: each added, changed or deleted term is audited."""
    from smi_core.services.agreements import agreement_delete, agreement_save
    from smi_core.services.audit import Actor

    actor = Actor.user(request.user, request)
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        agreement_delete(obj=obj, actor=actor, user=request.user)
    for obj in instances:
        agreement_save(obj=obj, actor=actor, user=request.user)
    formset.save_m2m()


def _agreement_delete(request, obj) -> None:
    from smi_core.services.agreements import agreement_delete
    from smi_core.services.audit import Actor

    agreement_delete(obj=obj, actor=Actor.user(request.user, request), user=request.user)


@admin.register(SupplierCapacity)
class SupplierCapacityAdmin(AuditedChangesAdmin):
    list_display = ["supplier", "item", "item_group", "units_per_week"]
    raw_id_fields = ["item"]


class ProposalLineInline(admin.TabularInline):
    model = ProposalLine
    extra = 0
    fields = [
        "line_number",
        "item",
        "quantity",
        "raw_quantity",
        "ordered_quantity",
        "confirmed_quantity",
        "ack_code",
        "promised_date",
        "unit_cost",
        "explanation",
    ]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReplenishmentProposal)
class ReplenishmentProposalAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "supplier",
        "buyer",
        "ship_to",
        "status",
        "po_number",
        "value",
        "currency",
        "as_of",
        "created_at",
        "created_by",
    ]
    list_filter = ["status", "supplier", "buyer", "as_of", "po_source"]
    search_fields = [
        "po_number",
        "ship_to__code",
        "lines__item__vendor_item",
        "outbound_documents__interchange_control_number",
    ]
    # Every field is read-only: who proposed and last edited decides SoD-01, and the lines,
    # status and order data change only through the services (edit, approve, cancel, 855).
    readonly_fields = [
        *(f.name for f in ReplenishmentProposal._meta.fields),
        "documents",
    ]
    inlines = [ProposalLineInline]
    actions = ["cancel"]

    def has_cancel_permission(self, request):
        from smi_core.services.roles import role_names

        return bool(role_names(request.user) & {"planner", "approver"})

    @admin.action(description="Cancel the selected proposals or orders", permissions=["cancel"])
    def cancel(self, request, queryset):
        from smi_core.services.audit import Actor
        from smi_core.services.proposals import proposal_cancel

        done = 0
        for proposal in queryset.order_by("pk"):
            try:
                proposal_cancel(
                    proposal_id=proposal.pk,
                    user=request.user,
                    reason=f"cancelled in the admin by {request.user.get_username()}",
                    actor=Actor.user(request.user, request),
                )
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if done:
            self.message_user(request, f"{done} proposal(s) cancelled", messages.SUCCESS)

    @admin.display(description="documents sent (855/856) and their acknowledgments")
    def documents(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html_join

        from smi_edi.models import OutboundDocument

        rows = OutboundDocument.objects.filter(order=obj) | OutboundDocument.objects.filter(
            shipment__packs__order=obj
        )
        return (
            format_html_join(
                "",
                '<div><a href="{}">{} #{}</a> ISA13 {}: {}, {} {}</div>',
                (
                    (
                        reverse("admin:smi_edi_outbounddocument_change", args=[d.pk]),
                        d.set_id,
                        d.pk,
                        d.interchange_control_number,
                        d.get_status_display(),
                        d.get_ack_status_display(),
                        "; ".join(d.validation_errors or d.ack_errors)[:300],
                    )
                    for d in rows.distinct().order_by("pk")
                ),
            )
            or "-"
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanRun)
class PlanRunAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "as_of",
        "trigger",
        "actor",
        "started_at",
        "finished_at",
        "item_locations",
        "proposals",
        "lines",
        "exceptions",
    ]
    list_filter = ["trigger"]


@admin.register(SeriesForecast)
class SeriesForecastAdmin(ReadOnlyAdmin):
    list_display = [
        "item",
        "location",
        "method",
        "classification",
        "demand_per_week",
        "sigma_per_week",
        "mase",
        "observations",
        "as_of",
    ]
    list_filter = ["method", "classification"]
    search_fields = ["item__vendor_item", "location__code"]
    list_select_related = ["item", "location"]


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    can_delete = False
    fields = ["pack", "order_line", "quantity", "received_quantity"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pack", "order_line__item")

    def has_add_permission(self, request, obj=None):
        return False


class ShipmentPackInline(admin.TabularInline):
    model = ShipmentPack
    extra = 0
    can_delete = False
    fields = ["sscc", "order"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = [
        "shipment_number",
        "supplier",
        "buyer",
        "ship_to",
        "status",
        "ship_date",
        "estimated_delivery",
        "carrier_scac",
        "bill_of_lading",
        "shipped_by",
    ]
    list_filter = ["status", "supplier", "buyer", "ship_date"]
    search_fields = [
        "shipment_number",
        "bill_of_lading",
        "pro_number",
        "packs__sscc",
        "packs__order__po_number",
    ]
    readonly_fields = [f.name for f in Shipment._meta.fields]
    inlines = [ShipmentPackInline]
    actions = ["mark_received"]

    def has_add_permission(self, request):
        return False  # shipments come from the ERP (API, CSV) and order_ship

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark received at the buyer's location", permissions=["change"])
    def mark_received(self, request, queryset):
        from smi_core.services.audit import Actor
        from smi_core.services.shipments import shipment_receive

        for shipment in queryset:
            shipment_receive(shipment_id=shipment.pk, actor=Actor.user(request.user, request))
        self.message_user(request, f"{queryset.count()} shipment(s) marked received")


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdmin):
    list_display = ["pack", "order_line", "quantity", "received_quantity"]
    search_fields = ["pack__sscc", "order_line__item__vendor_item"]
    list_select_related = ["pack", "order_line__item"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ["currency", "quote", "date", "rate", "source", "loaded_at"]
    list_filter = ["currency", "quote"]
    date_hierarchy = "date"
    search_fields = ["currency", "quote", "source"]


@admin.register(FinanceAccess)
class FinanceAccessAdmin(admin.ModelAdmin):
    list_display = ["user", "party", "granted_by", "granted_at"]
    list_filter = ["party"]
    raw_id_fields = ["user"]
    readonly_fields = ["granted_by", "granted_at"]

    def save_model(self, request, obj, form, change):
        from smi_core.services.audit import Actor
        from smi_core.services.fx import finance_access_grant

        granted = finance_access_grant(
            user=obj.user, party=obj.party, actor=Actor.user(request.user, request)
        )
        obj.pk = granted.pk

    def delete_model(self, request, obj):
        from smi_core.services.audit import Actor
        from smi_core.services.fx import finance_access_revoke

        finance_access_revoke(access_id=obj.pk, actor=Actor.user(request.user, request))
