"""Admin for the SMI domain: parties, items, locations, activity, positions, exceptions."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.functional import cached_property

from smi_core.admin_audit import InputFilter, NoRevertHistoryAdmin
from smi_core.admin_audit import ReadOnly as ReadOnlyAdmin
from smi_core.exceptions import ApplicationError
from smi_core.models import (
    ActivitySegment,
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
    ReplenishmentProposal,
    SeriesForecast,
    Shipment,
    ShipmentLine,
    ShipmentPack,
    SupplierCapacity,
    SupplyAgreement,
)
from smi_core.services.exceptions import exception_assign, exception_resolve

# The admin's header, tab titles and index heading name the hub, not "Django administration".
admin.site.site_header = "SMI Hub"
admin.site.site_title = "SMI Hub admin"
admin.site.index_title = "Proposals, orders, partners and the audit trail"


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


class ActivityCodeFilter(admin.SimpleListFilter):
    """By 852 activity code: the codes the hub reads (stock levels and flows) and "other",
    listed without a scan of the history for its distinct codes."""

    title = "activity code"
    parameter_name = "code"
    CODES = (
        ("QA", "QA on hand"),
        ("QS", "QS sold"),
        ("QR", "QR received"),
        ("QP", "QP on order"),
        ("QI", "QI in transit"),
        ("QC", "QC committed"),
    )

    def lookups(self, request, model_admin):
        return [*self.CODES, ("other", "other codes")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "other":
            return queryset.exclude(activity_code__in=[code for code, _ in self.CODES])
        if value in dict(self.CODES):
            return queryset.filter(activity_code=value)
        return queryset


class ActivityPaginator(Paginator):
    """The unfiltered count from the segment table on PostgreSQL (the sum of its array
    lengths: a tenth of the rows the view would unnest to count them)."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor != "postgresql" or query is None or query.where:
            return super().count
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COALESCE(SUM(cardinality(positions)), 0) "
                f"FROM {ActivitySegment._meta.db_table}"
            )
            return cursor.fetchone()[0]


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
    list_filter = [ActivityCodeFilter, "location__party", "period_end"]
    paginator = ActivityPaginator
    search_fields = ["item__vendor_item", "item__gtin", "location__code"]
    list_select_related = ["location__party", "item", "source_set"]
    show_full_result_count = False
    # Newest set first, in file order (by the set's id, not its model's ordering): on
    # PostgreSQL the view's rows come in this order from the segment table's key, so a page
    # reads its own rows, not a sort of the whole history.
    ordering = ["-source_set_id", "-segment_number", "-period_end", "position"]


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


def exception_about(e) -> str:
    """What an exception is about, by code (linked) and name, not database ids."""
    from django.utils.html import format_html, format_html_join

    parts = []
    if e.item_id:
        parts.append(("item", admin_link(e.item, e.item.vendor_item), e.item.description))
    if e.location_id:
        parts.append(("at", admin_link(e.location, e.location.code), e.location.name))
    if e.partner_id and not e.location_id:
        parts.append(("partner", admin_link(e.partner, e.partner.code), e.partner.name))
    if not parts:
        return format_html("{}", e.subject)
    return format_html_join(
        "", '<div class="smi-about">{} <span style="white-space: nowrap">{}</span> {}</div>', parts
    )


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("nobody", "Nobody (the queue)"), ("anyone", "Someone")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        if self.value() == "anyone":
            return queryset.filter(assigned_to__isnull=False)
        return queryset


class ExceptionWorkForm(forms.Form):
    """The queue's two moves on one page: assign (to someone, or back to the queue) and
    resolve with a note."""

    assign_to = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="— nobody (back to the queue) —"
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        label="Resolution note",
    )

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["assign_to"].queryset = (
            get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")
        )


@admin.register(ExceptionItem)
class ExceptionItemAdmin(admin.ModelAdmin):
    """The exceptions queue: what each is about by code and name, filtered by kind, status
    and assignee; assigned and resolved (with a note) through the audited services."""

    change_form_template = "admin/smi_core/exceptionitem/change_form.html"
    change_list_template = "admin/smi_change_list.html"
    list_display = [
        "id",
        "kind",
        "about",
        "partner_code",
        "status",
        "assigned_to",
        "times",
        "last_seen_text",
    ]
    list_filter = [
        "status",
        "kind",
        AssignedFilter,
        "partner",
        ("last_seen", admin.DateFieldListFilter),
    ]
    list_select_related = ["item", "location", "partner", "assigned_to"]
    search_fields = [
        "subject",
        "message",
        "item__vendor_item",
        "item__description",
        "location__code",
        "location__name",
        "partner__code",
    ]
    fields = [
        ("kind", "status"),
        "about_detail",
        "message",
        "action",
        "details",
        ("occurrences", "first_seen", "last_seen"),
        ("assigned_to", "assigned_at"),
        ("resolved_by", "resolved_at"),
        "resolution_note",
        ("subject", "source_set"),
    ]
    readonly_fields = [
        "kind",
        "status",
        "about_detail",
        "message",
        "action",
        "details",
        "occurrences",
        "first_seen",
        "last_seen",
        "assigned_to",
        "assigned_at",
        "resolved_by",
        "resolved_at",
        "resolution_note",
        "subject",
        "source_set",
    ]
    actions = ["assign_to_me", "resolve"]

    @admin.display(description="about")
    def about(self, obj):
        return exception_about(obj)

    @admin.display(description="about")
    def about_detail(self, obj):
        return exception_about(obj)

    @admin.display(description="times", ordering="occurrences")
    def times(self, obj):
        return obj.occurrences

    @admin.display(description="last seen", ordering="last_seen")
    def last_seen_text(self, obj):
        return timezone.localtime(obj.last_seen).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="partner", ordering="partner__code")
    def partner_code(self, obj):
        return obj.partner.code if obj.partner_id else "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Assign the selected exceptions to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        done = 0
        for exception in queryset.order_by("pk"):
            try:
                exception_assign(
                    exception=exception, assignee=request.user, actor=request.user, request=request
                )
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
        if done:
            self.message_user(request, f"{done} exception(s) assigned to you", messages.SUCCESS)

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

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and (obj.item_id or obj.location_id):
            # The subject is planning's key by database id; "about" says it by code.
            return [f for f in fields if f != ("subject", "source_set")] + ["source_set"]
        return fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from django.http import HttpResponseRedirect

        obj = self.get_object(request, object_id)
        if obj is None:
            return super().change_view(request, object_id, form_url, extra_context)
        can_work = self.has_change_permission(request, obj) and obj.status == "open"
        form = ExceptionWorkForm(initial={"assign_to": obj.assigned_to_id})
        if request.method == "POST" and "_work" in request.POST:
            if not can_work:
                raise PermissionDenied
            form = ExceptionWorkForm(request.POST)
            if form.is_valid():
                try:
                    if request.POST["_work"] == "resolve":
                        note = form.cleaned_data["note"].strip()
                        if not note:
                            raise ApplicationError("say how it was resolved (a note)")
                        exception_resolve(
                            exception=obj, actor=request.user, note=note, request=request
                        )
                        self.message_user(
                            request, f"Exception #{obj.pk} resolved", messages.SUCCESS
                        )
                    else:
                        who = form.cleaned_data["assign_to"]
                        exception_assign(
                            exception=obj, assignee=who, actor=request.user, request=request
                        )
                        self.message_user(
                            request,
                            f"Exception #{obj.pk} assigned to "
                            f"{who.get_username() if who else 'nobody (back to the queue)'}",
                            messages.SUCCESS,
                        )
                except ApplicationError as exc:
                    self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(request.path)
        extra_context = {**(extra_context or {}), "work_form": form, "can_work": can_work}
        return super().change_view(request, object_id, form_url, extra_context)


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


def money(value, currency: str = "") -> str:
    """Money for people: thousands separators, two decimals, the currency."""
    if value is None:
        return "—"
    return f"{Decimal(value):,.2f} {currency}".strip()


def quantity(value) -> str:
    """A quantity for people: thousands separators, no trailing zeros."""
    if value is None:
        return "—"
    value = Decimal(value).normalize()
    places = max(0, -value.as_tuple().exponent)
    return f"{value:,.{places}f}"


def item_label(item) -> str:
    return f"{item.vendor_item} — {item.description}" if item.description else item.vendor_item


def location_label(location) -> str:
    return f"{location.code} — {location.name}" if location.name else location.code


def party_label(party) -> str:
    return f"{party.code} — {party.name}" if party.name else party.code


def admin_link(obj, text: str):
    from django.urls import reverse
    from django.utils.html import format_html

    meta = obj._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text)


EXPLANATION_SHOWN = [
    ("demand_per_week", "demand per week"),
    ("safety_stock", "safety stock"),
    ("reorder_point", "reorder point"),
    ("order_up_to", "order-up-to level"),
    ("inventory_position", "inventory position"),
    ("on_hand", "on hand"),
    ("raw_quantity", "needed before rounding"),
]


def explanation_text(explanation: dict) -> list[tuple[str, str]]:
    rows = []
    for key, label in EXPLANATION_SHOWN:
        if explanation.get(key) not in (None, ""):
            rows.append((label, quantity(Decimal(explanation[key]).quantize(Decimal("0.01")))))
    if explanation.get("rounding"):
        rows.append(("rounding", "; ".join(str(s) for s in explanation["rounding"])))
    return rows


class ProposalFilterPO(InputFilter):
    title = "PO number"
    parameter_name = "po"
    placeholder = "e.g. SMI0000012"

    def filter(self, queryset, value):
        return queryset.filter(po_number__icontains=value)


@admin.register(ReplenishmentProposal)
class ReplenishmentProposalAdmin(admin.ModelAdmin):
    """A proposal's page is where each role does its work on it: the approver approves or
    rejects (or asks for an override), the planner edits a line or re-plans, the shipper
    confirms (855) and ships (856). Every button calls the same service as the API and the
    command line; SoD refusals are shown with their rule codes."""

    change_form_template = "admin/smi_core/replenishmentproposal/change_form.html"
    change_list_template = "admin/smi_change_list.html"
    list_display = [
        "id",
        "ship_to_label",
        "supplier_code",
        "status",
        "value_money",
        "line_count",
        "po_number",
        "as_of_text",
    ]
    list_display_links = ["id", "ship_to_label"]
    list_filter = ["status", "supplier", "buyer", "as_of", ProposalFilterPO, "po_source"]
    list_select_related = ["supplier", "buyer", "ship_to"]
    search_fields = [
        "po_number",
        "ship_to__code",
        "ship_to__name",
        "lines__item__vendor_item",
        "outbound_documents__interchange_control_number",
    ]
    # Every field is read-only: who proposed and last edited decides SoD-01, and the lines,
    # status and order data change only through the services (edit, approve, cancel, 855).
    readonly_fields = [
        *(f.name for f in ReplenishmentProposal._meta.fields),
        "documents",
    ]
    fieldsets = [
        (
            "Proposal",
            {
                "fields": [
                    ("supplier", "buyer", "ship_to"),
                    ("agreement", "currency", "as_of"),
                    ("created_by", "created_at", "plan_run"),
                    ("proposed_by", "last_edited_by", "last_edited_at"),
                ]
            },
        ),
        (
            "Order",
            {
                "fields": [
                    ("po_number", "po_source", "po_date"),
                    ("requested_delivery", "erp_reference", "confirmed_at"),
                    "documents",
                ]
            },
        ),
    ]
    actions = ["cancel"]

    @admin.display(description="ship to", ordering="ship_to__code")
    def ship_to_label(self, obj):
        return location_label(obj.ship_to)

    @admin.display(description="supplier", ordering="supplier__code")
    def supplier_code(self, obj):
        return obj.supplier.code

    @admin.display(description="value", ordering="value")
    def value_money(self, obj):
        return money(obj.value, obj.currency)

    @admin.display(description="lines")
    def line_count(self, obj):
        return obj.lines.count()

    @admin.display(description="as of", ordering="as_of")
    def as_of_text(self, obj):
        return obj.as_of.isoformat()

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not obj.po_number:  # not an order yet: nothing to show there
            return [f for f in fieldsets if f[0] != "Order"]
        return fieldsets

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

    # -- the role workflows on the proposal's page -------------------------------------

    def get_urls(self):
        from django.urls import path

        def view(name, func):
            return path(
                f"<int:pk>/{name}/",
                self.admin_site.admin_view(func),
                name=f"smi_core_replenishmentproposal_{name.replace('/', '_')}",
            )

        return [
            view("approve", self.approve_view),
            view("reject", self.reject_view),
            view("override", self.override_view),
            view("grant", self.grant_view),
            view("edit-line", self.edit_line_view),
            view("replan", self.replan_view),
            view("confirm", self.confirm_view),
            view("ship", self.ship_view),
            *super().get_urls(),
        ]

    def _work(self, request, pk: int, do):
        """POST only; the proposal must be one the user may see; ``do`` calls a service and
        returns a success message. An ApplicationError (an SoD refusal with its rule codes
        included) is shown as an error; nothing is bypassed."""
        from django.http import HttpResponseNotAllowed, HttpResponseRedirect
        from django.urls import reverse

        from smi_core.services.sod import SodViolation

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, str(pk))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(f"no proposal #{pk} that you may see")
        try:
            done = do(obj)
        except SodViolation as exc:
            codes = ", ".join(exc.rule_codes)
            self.message_user(
                request, f"Refused by SoD rule(s) {codes}: {exc.message}", messages.ERROR
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            if done:
                self.message_user(request, done, messages.SUCCESS)
        target = request.POST.get("next") or ""
        if not target.startswith("/admin/"):
            target = reverse("admin:smi_core_replenishmentproposal_change", args=[pk])
        return HttpResponseRedirect(target)

    def approve_view(self, request, pk):
        from smi_core.services.audit import Actor
        from smi_core.services.proposals import proposal_approve

        def do(obj):
            approval = proposal_approve(
                proposal_id=obj.pk, user=request.user, actor=Actor.user(request.user, request)
            )
            obj.refresh_from_db()
            return f"Proposal #{obj.pk} approved (approval #{approval.pk}); PO {obj.po_number}"

        return self._work(request, pk, do)

    def reject_view(self, request, pk):
        from smi_core.services.audit import Actor
        from smi_core.services.proposals import proposal_reject

        def do(obj):
            proposal_reject(
                proposal_id=obj.pk,
                user=request.user,
                reason=request.POST.get("reason", ""),
                actor=Actor.user(request.user, request),
            )
            return f"Proposal #{obj.pk} rejected"

        return self._work(request, pk, do)

    def override_view(self, request, pk):
        from smi_core.services.proposals import override_request

        def do(obj):
            codes = [c for c in request.POST.getlist("rule_codes") if c]
            if not codes:
                raise ApplicationError("name the rule(s) the override is for", code="no_rules")
            override = override_request(
                proposal_id=obj.pk,
                rule_codes=codes,
                justification=request.POST.get("justification", ""),
                user=request.user,
            )
            return (
                f"Override #{override.pk} of {', '.join(override.rule_codes)} requested; a "
                "compliance officer (a third person) must grant it before you approve"
            )

        return self._work(request, pk, do)

    def grant_view(self, request, pk):
        from smi_core.services.proposals import override_grant

        def do(obj):
            try:
                override_id = int(request.POST.get("override", ""))
            except ValueError:
                raise ApplicationError("which override?", code="no_override") from None
            if not obj.overrides.filter(pk=override_id).exists():
                raise ApplicationError(f"proposal #{obj.pk} has no override #{override_id}")
            override_grant(override_id=override_id, user=request.user)
            return f"Override #{override_id} granted"

        return self._work(request, pk, do)

    def edit_line_view(self, request, pk):
        from decimal import InvalidOperation

        from smi_core.services.audit import Actor
        from smi_core.services.proposals import proposal_line_edit

        def do(obj):
            reason = request.POST.get("reason", "").strip()
            if not reason:
                raise ApplicationError("a line edit needs a reason", code="reason_required")
            try:
                item_id = int(request.POST.get("item", ""))
                new = Decimal(request.POST.get("quantity", "").replace(",", "").strip())
            except (ValueError, InvalidOperation):
                raise ApplicationError(
                    "a quantity is a number, e.g. 24 or 12.5", code="bad_quantity"
                ) from None
            edit = proposal_line_edit(
                proposal_id=obj.pk,
                item_id=item_id,
                quantity=new,
                user=request.user,
                actor=Actor.user(request.user, request),
                reason=reason,
            )
            if not edit.changed:
                self.message_user(request, edit.message, messages.INFO)
                return ""
            obj.refresh_from_db()
            lapsed = (
                " The approval lapsed: the proposal needs approving again."
                if (
                    obj.status == ReplenishmentProposal.Status.PROPOSED
                    and obj.approvals.filter(decision="voided").exists()
                )
                else ""
            )
            return f"{edit.message} (reason: {reason}).{lapsed}"

        return self._work(request, pk, do)

    def replan_view(self, request, pk):
        from django.http import HttpResponseRedirect
        from django.urls import reverse

        from smi_core.services.audit import Actor
        from smi_core.services.planning import proposal_replan

        result = {}

        def do(obj):
            plan = proposal_replan(
                proposal_id=obj.pk, user=request.user, actor=Actor.user(request.user, request)
            )
            result["plan"] = plan
            new = (
                ", ".join(f"#{p.pk}" for p in plan.proposals) or "no new proposal (nothing needed)"
            )
            return (
                f"Proposal #{obj.pk} re-planned as of {plan.run.as_of} (plan #{plan.run.pk}): {new}"
            )

        response = self._work(request, pk, do)
        plan = result.get("plan")
        if plan is not None and len(plan.proposals) == 1:
            return HttpResponseRedirect(
                reverse("admin:smi_core_replenishmentproposal_change", args=[plan.proposals[0].pk])
            )
        return response

    def confirm_view(self, request, pk):
        from smi_core.services.audit import Actor
        from smi_edi.services.order_documents import order_acknowledge

        def do(obj):
            # The same permission the orders API asks of staff.
            if not request.user.has_perm("smi_core.ship_replenishmentproposal"):
                raise ApplicationError(
                    f"{request.user.get_username()} may not confirm orders: that needs the "
                    "shipper role",
                    code="permission_denied",
                )
            document = order_acknowledge(
                order_id=obj.pk,
                actor=Actor.user(request.user, request),
                erp_reference=request.POST.get("erp_reference", "").strip(),
            )
            if document.validation_errors:
                raise ApplicationError(
                    "the 855 failed our validation; nothing was sent: "
                    + "; ".join(document.validation_errors[:3])
                )
            return (
                f"Order {obj.po_number} confirmed: 855 ISA13 {document.interchange_control_number} "
                f"{document.get_status_display().lower()}"
            )

        return self._work(request, pk, do)

    def ship_view(self, request, pk):
        from datetime import date as date_type

        from smi_core.services.audit import Actor
        from smi_edi.services.order_documents import order_ship

        def do(obj):
            raw_date = request.POST.get("ship_date", "").strip()
            try:
                ship_date = date_type.fromisoformat(raw_date) if raw_date else None
            except ValueError:
                raise ApplicationError(
                    f"{raw_date!r} is not a date (YYYY-MM-DD)", code="bad_date"
                ) from None
            shipment, document = order_ship(
                po_number=obj.po_number,
                user=request.user,
                actor=Actor.user(request.user, request),
                ship_date=ship_date,
                carrier_scac=request.POST.get("carrier_scac", "").strip().upper()[:4],
            )
            return (
                f"Order {obj.po_number} shipped: shipment {shipment.shipment_number}, 856 ISA13 "
                f"{document.interchange_control_number} {document.get_status_display().lower()}"
            )

        return self._work(request, pk, do)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            extra_context = {**(extra_context or {}), **self._panel(request, obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _panel(self, request, obj) -> dict:
        """What the proposal's page shows above its fields: the lines by code and name with
        the numbers behind them, value, open exceptions of its item-locations, the SoD
        checks approving would meet for this user, and the buttons each role uses."""
        from smi_core.models import Approval, SodOverride
        from smi_core.services.proposals import approval_invalid_reason
        from smi_core.services.roles import role_names
        from smi_core.services.shipments import open_quantities
        from smi_core.services.sod import approval_breaches, shipping_breaches

        P = ReplenishmentProposal.Status
        user = request.user
        roles = role_names(user)
        lines = list(
            obj.lines.select_related("item", "quantity_set_by").order_by("line_number", "item_id")
        )
        opened = open_quantities(obj) if obj.status in (P.ORDERED, P.APPROVED) else {}
        rows = [
            {
                "line": line,
                "item": admin_link(line.item, item_label(line.item)),
                "item_code": admin_link(line.item, line.item.vendor_item),
                "location_code": admin_link(obj.ship_to, obj.ship_to.code),
                "quantity": quantity(line.quantity),
                "proposed": quantity(line.proposed_quantity),
                "edited": line.quantity != line.proposed_quantity,
                "set_by": line.quantity_set_by.get_username() if line.quantity_set_by else "",
                "unit": line.item.unit,
                "unit_cost": money(line.unit_cost.quantize(Decimal("0.01")), obj.currency),
                "line_value": money(
                    (line.quantity * line.unit_cost).quantize(Decimal("0.01")), obj.currency
                ),
                "confirmed": quantity(line.confirmed_quantity),
                "ack_code": line.ack_code,
                "open": quantity(opened[line.pk]) if line.pk in opened else "",
                "explanation": explanation_text(line.explanation or {}),
                "edit_value": f"{line.quantity.normalize():f}",
            }
            for line in lines
        ]
        exceptions = [
            {
                "exception": e,
                "link": admin_link(e, f"#{e.pk} {e.get_kind_display()}"),
                "about": exception_about(e),
            }
            for e in ExceptionItem.objects.filter(
                status=ExceptionItem.Status.OPEN,
                location_id=obj.ship_to_id,
                item_id__in=[line.item_id for line in lines],
            ).select_related("item", "location", "partner")[:50]
        ]
        proposed = obj.status == P.PROPOSED
        breaches = approval_breaches(proposal=obj, user=user) if proposed else []
        # An override lifts rules for an approver; it never gives someone the role itself.
        codes = [b.code for b in breaches]
        overridable = [] if "ROLE" in codes else codes
        overrides = list(
            SodOverride.objects.filter(proposal=obj)
            .select_related("requested_by", "approver", "granted_by")
            .order_by("-pk")
        )
        shipping = shipping_breaches(proposal=obj, user=user) if obj.status == P.ORDERED else []
        approvals = list(
            Approval.objects.filter(proposal=obj)
            .select_related("actor")
            .order_by("-decided_at", "-pk")[:10]
        )
        return {
            "proposal": obj,
            "value_text": money(obj.value, obj.currency),
            "line_rows": rows,
            "open_exceptions": exceptions,
            "sod_breaches": breaches,
            "sod_overridable": overridable,
            "sod_overrides": overrides,
            "approvals_made": approvals,
            "approval_lapsed": (approval_invalid_reason(obj) if obj.status == P.APPROVED else None),
            "voided": obj.status == P.PROPOSED and any(a.decision == "voided" for a in approvals),
            "can_decide": proposed,
            "can_edit": obj.status in (P.PROPOSED, P.APPROVED) and "planner" in roles,
            "can_replan": proposed and "planner" in roles,
            "can_grant": "compliance" in roles,
            "can_confirm": obj.status == P.APPROVED
            and user.has_perm("smi_core.ship_replenishmentproposal"),
            "can_ship": obj.status == P.ORDERED
            and any(q > 0 for q in opened.values())
            and user.has_perm("smi_core.ship_replenishmentproposal"),
            "shipping_breaches": shipping,
            "user_roles": sorted(roles),
            "today": timezone.localdate().isoformat(),
        }


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


# Settlement (invoices, memos, remittances) and the reporting date (what reports default
# to) live in their own modules; importing them registers them.
from smi_core import admin_reporting, admin_settlement  # noqa: E402, F401
