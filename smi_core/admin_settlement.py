"""Admin for consignment settlement: the invoices and memos (list, and a page with the
lines, the 852 sets they came from, payments, and the Approve / Issue buttons, which call
the same services as the API and the command line), and the buyers' remittances.
Everything is read-only here: settlements change only through the services."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from smi_core.admin_audit import ReadOnly as ReadOnlyAdmin
from smi_core.exceptions import ApplicationError
from smi_core.models import PaymentApplication, Remittance, SettlementInvoice, SettlementLine
from smi_core.selectors.finance.base import FinanceForbidden, FinanceScope
from smi_core.selectors.finance.settlement import bucket_for
from smi_core.services.audit import Actor
from smi_core.services.roles import role_names
from smi_core.services.settlement import (
    SETTLEMENT_ROLE,
    approval_breaches,
    settlement_approve,
    settlement_issue,
)
from smi_core.services.sod import SodViolation
from smi_core.templatetags.smi_format import money, quantity

S = SettlementInvoice.Status


def _scoped(request, qs, *fields: str):
    """A finance user sees the settlements of the parties granted to them; auditors and
    superusers all; anyone else with a view permission all (it was granted to them)."""
    try:
        scope = FinanceScope.for_user(request.user)
    except FinanceForbidden:
        return qs
    if scope.party_ids is None:
        return qs
    from django.db.models import Q

    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__in": scope.party_ids})
    return qs.filter(condition)


def price(value, currency: str) -> str:
    """A unit price as agreed: at least two decimals, more only when it has them
    (``USD 2.40``, ``USD 28.125``)."""
    places = max(2, -value.normalize().as_tuple().exponent)
    return f"{currency} {value:,.{places}f}"


def _nowrap(text: str):
    return format_html('<span style="white-space: nowrap">{}</span>', text)


def _when(value) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "—"


class SettlementLineInline(admin.TabularInline):
    model = SettlementLine
    extra = 0
    can_delete = False
    fields = [
        "line_number",
        "item",
        "location",
        "quantity_text",
        "price_text",
        "amount_text",
        "sets",
    ]
    readonly_fields = fields

    @admin.display(description="quantity")
    def quantity_text(self, obj):
        return f"{quantity(obj.quantity)} {obj.unit}"

    @admin.display(description="unit price")
    def price_text(self, obj):
        return price(obj.unit_price, obj.invoice.currency)

    @admin.display(description="amount")
    def amount_text(self, obj):
        return money(obj.amount, obj.invoice.currency)

    @admin.display(description="852 sets")
    def sets(self, obj):
        return ", ".join(f"#{s}" for s in obj.source_sets) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invoice", "item", "location")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SettlementInvoice)
class SettlementInvoiceAdmin(admin.ModelAdmin):
    change_form_template = "admin/smi_core/settlementinvoice/change_form.html"
    list_display = [
        "number_text",
        "buyer_code",
        "cycle",
        "total_money",
        "balance_money",
        "status",
        "due",
    ]
    list_filter = [
        "status",
        "kind",
        "method",
        ("buyer", admin.RelatedOnlyFieldListFilter),
        ("supplier", admin.RelatedOnlyFieldListFilter),
        "currency",
    ]
    list_select_related = ["buyer", "supplier"]
    search_fields = ["number", "buyer__code", "agreement__code", "original__number"]
    date_hierarchy = "cycle_start"
    inlines = [SettlementLineInline]
    readonly_fields = [
        *(f.name for f in SettlementInvoice._meta.fields),
        "cycle",
        "invoice_and_due",
        "total_money",
        "paid_money",
        "balance_money",
        "prepared",
        "approved",
        "issued",
        "notes_text",
        "sets",
    ]
    fieldsets = [
        (
            "Settlement",
            {
                "fields": [
                    ("number", "kind", "method", "status"),
                    ("agreement", "buyer", "supplier"),
                    ("cycle", "currency"),
                    ("total_money", "paid_money", "balance_money"),
                    ("invoice_and_due", "document"),
                    ("original", "reason"),
                ]
            },
        ),
        ("Who", {"fields": ["prepared", "approved", "issued"]}),
        ("Worked out from", {"fields": ["notes_text", "sets"]}),
    ]

    def get_queryset(self, request):
        return _scoped(request, super().get_queryset(request), "buyer_id", "supplier_id")

    @admin.display(description="buyer", ordering="buyer__code")
    def buyer_code(self, obj):
        return obj.buyer.code

    @admin.display(description="number", ordering="number")
    def number_text(self, obj):
        # A memo says so under its number (the kind has no column of its own: at 1366 px
        # beside the filter panel there is no room for it; the kind filter remains)
        if obj.kind == SettlementInvoice.Kind.INVOICE:
            return _nowrap(obj.number)
        return format_html("{}<br><small>{}</small>", _nowrap(obj.number), obj.get_kind_display())

    @admin.display(description="cycle", ordering="cycle_start")
    def cycle(self, obj):
        month = obj.cycle_start.month == obj.cycle_end.month
        if month and obj.cycle_start.day == 1 and (obj.cycle_end + timedelta(days=1)).day == 1:
            return _nowrap(f"{obj.cycle_start:%B %Y}")  # a calendar month
        return format_html(
            "{} to {}", _nowrap(f"{obj.cycle_start:%Y-%m-%d}"), _nowrap(f"{obj.cycle_end:%Y-%m-%d}")
        )

    @admin.display(description="total", ordering="total")
    def total_money(self, obj):
        return _nowrap(money(obj.total, obj.currency))

    @admin.display(description="paid")
    def paid_money(self, obj):
        return _nowrap(money(obj.paid, obj.currency))

    @admin.display(description="open")
    def balance_money(self, obj):
        return _nowrap(money(obj.balance, obj.currency))

    @admin.display(description="due", ordering="due_date")
    def due(self, obj):
        if obj.due_date is None:
            return "—"
        age = self.age(obj)
        if age == "—":
            return _nowrap(f"{obj.due_date:%Y-%m-%d}")
        return format_html(
            '{}<br><small class="smi-age">{}</small>', _nowrap(f"{obj.due_date:%Y-%m-%d}"), age
        )

    @admin.display(description="invoice date")
    def invoice_and_due(self, obj):
        if obj.invoice_date is None:
            return "— (set when issued)"
        return f"{obj.invoice_date:%Y-%m-%d}, due {obj.due_date:%Y-%m-%d}"

    def _who(self, user, at):
        if at is None:
            return "—"
        return f"{user.username if user else 'the system'} on {_when(at)}"

    @admin.display(description="prepared by")
    def prepared(self, obj):
        return self._who(obj.prepared_by, obj.prepared_at)

    @admin.display(description="approved by")
    def approved(self, obj):
        return self._who(obj.approved_by, obj.approved_at)

    @admin.display(description="issued by")
    def issued(self, obj):
        return self._who(obj.issued_by, obj.issued_at)

    @admin.display(description="notes")
    def notes_text(self, obj):
        if obj.kind != SettlementInvoice.Kind.INVOICE:
            return "— (a memo's lines are entered with its reason, not worked out from 852s)"
        if not obj.notes:
            return "none: every consumed item-location was priced and reported to the end"
        return format_html_join("", "<p>{}</p>", ((note,) for note in obj.notes))

    @admin.display(description="852 sets")
    def sets(self, obj):
        return ", ".join(f"#{s}" for s in obj.source_sets) or "—"

    @admin.display(description="days past due")
    def age(self, obj):
        from django.utils import timezone

        if obj.due_date is None or obj.status not in (S.ISSUED, S.PARTIALLY_PAID):
            return "—"
        days = (timezone.localdate() - obj.due_date).days
        return f"{bucket_for(days)} days late" if days > 0 else "not yet due"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # -- the buttons ----------------------------------------------------------------------

    def get_urls(self):
        def view(name, func):
            return path(
                f"<int:pk>/{name}/",
                self.admin_site.admin_view(func),
                name=f"smi_core_settlementinvoice_{name}",
            )

        return [
            view("approve", self.approve_view),
            view("issue", self.issue_view),
            *super().get_urls(),
        ]

    def _work(self, request, pk: int, do):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, str(pk))
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404(f"no settlement #{pk} that you may see")
        try:
            done = do(obj)
        except SodViolation as exc:
            self.message_user(
                request,
                f"Refused by SoD rule(s) {', '.join(exc.rule_codes)}: {exc.message}",
                messages.ERROR,
            )
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:smi_core_settlementinvoice_change", args=[pk]))

    def approve_view(self, request, pk):
        def do(obj):
            settlement_approve(
                invoice_id=obj.pk, user=request.user, actor=Actor.user(request.user, request)
            )
            return f"{obj.number} approved"

        return self._work(request, pk, do)

    def issue_view(self, request, pk):
        def do(obj):
            issued = settlement_issue(
                invoice_id=obj.pk, user=request.user, actor=Actor.user(request.user, request)
            )
            sent = (
                f"810 ISA13 {issued.document.interchange_control_number} sent"
                if issued.document
                else "no 810 (evaluated receipt settlement: the buyer self-bills)"
            )
            return f"{obj.number} issued, due {issued.due_date}; {sent}"

        return self._work(request, pk, do)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            roles = role_names(request.user)
            breaches = (
                approval_breaches(invoice=obj, user=request.user)
                if obj.status == S.PROPOSED
                else []
            )
            payments = obj.payments.select_related("remittance").order_by(
                "remittance__payment_date", "pk"
            )
            extra_context = {
                **(extra_context or {}),
                "settlement": obj,
                "total_text": money(obj.total, obj.currency),
                "balance_text": money(obj.balance, obj.currency),
                "paid_text": money(obj.paid, obj.currency),
                "sod_breaches": breaches,
                "can_approve": obj.status == S.PROPOSED,
                "can_issue": obj.status == S.APPROVED and SETTLEMENT_ROLE in roles,
                "payments": [
                    {
                        "remittance": format_html(
                            '<a href="{}">{}</a>',
                            reverse("admin:smi_core_remittance_change", args=[p.remittance_id]),
                            p.remittance.trace_number,
                        ),
                        "date": p.remittance.payment_date,
                        "paid": money(p.paid, obj.currency),
                        "matched_by": p.get_matched_by_display(),
                        "adjustments": _adjustments(p.adjustments, obj.currency),
                    }
                    for p in payments
                ],
            }
        return super().change_view(request, object_id, form_url, extra_context)


def _adjustments(adjustments: list, currency: str) -> str:
    """``[{"amount": "-28.25", "reason": "20 (Damaged)"}]`` -> ``20 (Damaged) USD -28.25``."""
    return "; ".join(f"{a['reason']} {money(a['amount'], currency)}" for a in adjustments) or "—"


class PaymentApplicationInline(admin.TabularInline):
    model = PaymentApplication
    extra = 0
    can_delete = False
    fields = [
        "reference",
        "invoice",
        "matched_by",
        "paid_text",
        "invoice_amount_text",
        "discount_text",
        "adjustments_text",
    ]
    readonly_fields = fields

    def _money(self, obj, value):
        return "—" if value is None else _nowrap(money(value, obj.remittance.currency))

    @admin.display(description="paid")
    def paid_text(self, obj):
        return self._money(obj, obj.paid)

    @admin.display(description="invoice amount (the buyer's)")
    def invoice_amount_text(self, obj):
        return self._money(obj, obj.invoice_amount)

    @admin.display(description="discount")
    def discount_text(self, obj):
        return self._money(obj, obj.discount or None)

    @admin.display(description="adjustments (reason code and meaning, amount)")
    def adjustments_text(self, obj):
        return _adjustments(obj.adjustments, obj.remittance.currency)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("remittance", "invoice")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Remittance)
class RemittanceAdmin(ReadOnlyAdmin):
    list_display = [
        "trace_number",
        "payer",
        "payee",
        "payment_date_text",
        "amount_money",
        "method",
        "received_at_text",
    ]
    list_filter = [
        ("payer", admin.RelatedOnlyFieldListFilter),
        ("payee", admin.RelatedOnlyFieldListFilter),
        "currency",
        "method",
    ]
    search_fields = ["trace_number", "lines__reference"]
    date_hierarchy = "payment_date"
    inlines = [PaymentApplicationInline]
    fields = [
        ("payer", "payee"),
        ("trace_number", "method"),
        ("payment_date_text", "amount_money"),
        "source_set",
        "received_at_text",
    ]
    readonly_fields = ["payment_date_text", "amount_money", "received_at_text"]

    @admin.display(description="payment date", ordering="payment_date")
    def payment_date_text(self, obj):
        return f"{obj.payment_date:%Y-%m-%d}"

    @admin.display(description="received", ordering="received_at")
    def received_at_text(self, obj):
        return _when(obj.received_at)

    def get_queryset(self, request):
        return _scoped(request, super().get_queryset(request), "payer_id", "payee_id")

    @admin.display(description="amount", ordering="amount")
    def amount_money(self, obj):
        return money(obj.amount, obj.currency)
