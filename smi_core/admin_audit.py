"""Admin for auditors: approvals with the SoD decision, denials and overrides, the audit log
(read-only for everyone), CSV exports that are themselves audited, and the chain's
verification on the admin index."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from decimal import Decimal

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from smi_core.models import Approval, AuditEvent, SodOverride, SodRule
from smi_core.services.audit import Actor, audit_record, audit_verify, canonical


def export_csv(
    *,
    request,
    queryset,
    name: str,
    header: list[str],
    rows,
    object_type: str,
    title: str = "",
    scope: str = "",
) -> HttpResponse:
    """A CSV whose first lines state what it holds (``title``, and the ``scope`` a list
    always has whatever the filters), the filters, the time and the row count, ending with
    the sha256 of everything above it; the export itself is an audit event."""
    rows = list(rows)
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerow(header)
    writer.writerows(rows)
    filters = "&".join(f"{k}={v}" for k, v in sorted(request.GET.items())) or "none"
    preamble = io.StringIO()
    csv.writer(preamble).writerows(
        [
            [f"# SMI Hub export of {title or name}"],
            [f"# filters: {filters}" + (f" (scope: {scope})" if scope else "")],
            [f"# exported at: {timezone.now().isoformat()} by {request.user.get_username()}"],
            [f"# rows: {len(rows)}"],
        ]
    )
    content = preamble.getvalue() + body.getvalue()
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    content += f"# sha256 of the lines above: {digest}\r\n"
    audit_record(
        actor=Actor.user(request.user, request),
        action=f"{object_type}.export",
        object_type=object_type,
        object_id="*",
        after={"export": title or name, "filters": filters, "rows": len(rows), "sha256": digest},
    )
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{timezone.now():%Y%m%dT%H%M%S}.csv"'
    )
    return response


class InputFilter(admin.SimpleListFilter):
    """A typed-in value (a PO number, a user name) instead of a list of every value ever
    seen. Subclasses set title, parameter_name, placeholder and ``filter(queryset, value)``."""

    template = "admin/smi_input_filter.html"
    placeholder = ""

    def lookups(self, request, model_admin):
        return [("*", "any")]  # the input replaces the list; one lookup keeps it shown

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        params = changelist.get_filters_params()
        hidden = [
            (k, v[-1] if isinstance(v, list) else v)
            for k, v in params.items()
            if k != self.parameter_name
        ]
        yield {
            "selected": bool(self.value()),
            "parameter_name": self.parameter_name,
            "value": self.value() or "",
            "hidden": hidden,
            "placeholder": self.placeholder,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": self.title,
        }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return self.filter(queryset, value) if value else queryset

    def filter(self, queryset, value: str):  # pragma: no cover - subclasses say how
        raise NotImplementedError


class EventUserFilter(InputFilter):
    title = "user"
    parameter_name = "user"
    placeholder = "user name"

    def filter(self, queryset, value):
        return queryset.filter(actor__in=[value, f"user:{value}"])


class EventPOFilter(InputFilter):
    """Events of the proposal or order with this PO number."""

    title = "PO number"
    parameter_name = "po"
    placeholder = "e.g. SMI0000012"

    def filter(self, queryset, value):
        from smi_core.models import ReplenishmentProposal

        ids = [
            str(pk)
            for pk in ReplenishmentProposal.objects.filter(po_number__iexact=value).values_list(
                "pk", flat=True
            )
        ]
        return queryset.filter(object_type="proposal", object_id__in=ids)


class EventRuleFilter(admin.SimpleListFilter):
    title = "SoD rule"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(r.code, f"{r.code} {r.get_kind_display()}") for r in SodRule.objects.all()] + [
            ("ROLE", "ROLE missing role"),
            ("OVERRIDE", "OVERRIDE grant refused"),
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(rule_codes__icontains=f'"{self.value()}"')
        return queryset


class DecisionFilter(admin.SimpleListFilter):
    title = "SoD rule"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(r.code, f"{r.code} {r.get_kind_display()}") for r in SodRule.objects.all()] + [
            ("ROLE", "ROLE missing role")
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(rule_codes__icontains=f'"{self.value()}"')
        return queryset


class ApprovalUserFilter(InputFilter):
    title = "user (who decided)"
    parameter_name = "user"
    placeholder = "user name"

    def filter(self, queryset, value):
        return queryset.filter(actor__username__iexact=value)


class ApprovalPOFilter(InputFilter):
    title = "PO number"
    parameter_name = "po"
    placeholder = "e.g. SMI0000012"

    def filter(self, queryset, value):
        return queryset.filter(proposal__po_number__icontains=value)


class OverrideFilter(admin.SimpleListFilter):
    title = "override"
    parameter_name = "override"

    def lookups(self, request, model_admin):
        return [("yes", "With override"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(override__isnull=False)
        if self.value() == "no":
            return queryset.filter(override__isnull=True)
        return queryset


class NoRevertHistoryAdmin(SimpleHistoryAdmin):
    """History is shown, never reverted: a revert would rewrite the record of what applied."""

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        raise PermissionDenied(
            "reverting to an earlier version is disabled; make the change instead"
        )


class ReadOnly(admin.ModelAdmin):
    """Records nobody edits by hand: derived ones (rebuilt from their sources) and evidence."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Approval)
class ApprovalAdmin(ReadOnly):
    change_list_template = "admin/smi_change_list_export.html"
    export_name = "approvals"
    export_title = "approvals (all decisions)"
    export_scope = ""
    # What an auditor scans at 1366 px; the rest (proposer, times, thresholds, lines as
    # proposed and approved, ISA control numbers, audit events) is on the decision's page.
    list_display = [
        "id",
        "proposal_link",
        "decision",
        "actor",
        "decided_text",
        "value_money",
        "sod",
    ]
    list_filter = [
        "decision",
        ("decided_at", admin.DateFieldListFilter),
        ApprovalUserFilter,
        ApprovalPOFilter,
        DecisionFilter,
        OverrideFilter,
        "proposal__buyer",
        "proposal__supplier",
    ]
    search_fields = [
        "proposal__po_number",
        "proposal__id",
        "actor__username",
        "proposer",
        "proposal__outbound_documents__interchange_control_number",
        "proposal__packs__shipment__outbound_documents__interchange_control_number",
    ]
    date_hierarchy = "decided_at"
    list_select_related = ["proposal", "actor", "override"]
    actions = ["export_selected"]
    readonly_fields = [
        "proposal",
        "decision",
        "actor",
        "decided_at",
        "proposer",
        "proposed_at",
        "time_to_approve",
        "value_money",
        "agreement_version",
        "lines_hash",
        "rules",
        "reason",
        "override",
        "po_number",
        "isa_controls",
        "thresholds_table",
        "lines_compared",
        "audit_events",
    ]
    exclude = ["lines", "rule_codes", "value", "currency", "thresholds"]

    @admin.display(description="agreement terms in force at the decision")
    def thresholds_table(self, obj):
        """The thresholds the decision saw, by item and location code (they are stored by
        database id)."""
        from smi_core.models import Item, Location

        data = obj.thresholds or {}
        terms = data.get("terms", {})
        keys = [key.split("@") for key in terms]
        items = dict(
            Item.objects.filter(pk__in={int(i) for i, _ in keys}).values_list("pk", "vendor_item")
        )
        places = dict(
            Location.objects.filter(
                pk__in={int(loc) for _, loc in keys if loc.isdigit()}
            ).values_list("pk", "code")
        )

        def number(value):
            return "—" if value is None else f"{Decimal(value).normalize():f}"

        rows = []
        for key, term in sorted(terms.items()):
            item, location = key.split("@")
            rows.append(
                (
                    items.get(int(item), f"item {item}"),
                    places.get(int(location), location) if location.isdigit() else "every location",
                    number(term.get("min_quantity")),
                    number(term.get("max_quantity")),
                    number(term.get("moq")),
                    number(term.get("pack_multiple")),
                    f"{Decimal(term['unit_cost']):,.2f} {obj.currency}"
                    if term.get("unit_cost")
                    else "—",
                )
            )
        return format_html(
            "<p>agreement {} · service level {} · lead time {} days</p>"
            "<table><tr><th>item</th><th>location</th><th>min</th><th>max</th><th>MOQ</th>"
            "<th>pack</th><th>unit cost</th></tr>{}</table>",
            data.get("agreement", "—"),
            f"{(Decimal(data['service_level']) * 100).normalize():f} %"
            if data.get("service_level")
            else "—",
            number(data.get("lead_time_days")),
            format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", rows),
        )

    @admin.display(description="decided at", ordering="decided_at")
    def decided_text(self, obj):
        return timezone.localtime(obj.decided_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="value", ordering="value")
    def value_money(self, obj):
        return f"{obj.value:,.2f} {obj.currency}"

    @admin.display(description="proposal / PO", ordering="proposal_id")
    def proposal_link(self, obj):
        return format_html(
            '<a href="/admin/smi_core/replenishmentproposal/{}/change/">#{}</a> {}',
            obj.proposal_id,
            obj.proposal_id,
            obj.proposal.po_number,
        )

    @admin.display(description="SoD rules")
    def sod(self, obj):
        rules = ", ".join(obj.rule_codes) or "—"
        return f"{rules}, override #{obj.override_id}" if obj.override_id else rules

    @admin.display(description="time to decide")
    def time_to_approve(self, obj):
        delta = obj.decided_at - obj.proposed_at
        return str(timedelta(seconds=int(delta.total_seconds())))

    @admin.display(description="SoD rules")
    def rules(self, obj):
        return ", ".join(obj.rule_codes) or "-"

    @admin.display(boolean=True, description="override")
    def override_flag(self, obj):
        return obj.override_id is not None

    @admin.display(description="PO number")
    def po_number(self, obj):
        return obj.proposal.po_number or "-"

    @admin.display(description="ISA control numbers")
    def isa_controls(self, obj):
        from smi_edi.models import OutboundDocument

        documents = OutboundDocument.objects.filter(
            order_id=obj.proposal_id
        ) | OutboundDocument.objects.filter(shipment__packs__order_id=obj.proposal_id)
        numbers = (
            documents.distinct().order_by("pk").values_list("set_id", "interchange_control_number")
        )
        return ", ".join(f"{set_id} {isa13}" for set_id, isa13 in numbers) or "-"

    @admin.display(description="lines: as proposed / as approved")
    def lines_compared(self, obj):
        proposed = {line.item_id: line for line in obj.proposal.lines.select_related("item")}
        rows = []
        for line in obj.lines:
            original = proposed.get(line["item_id"])
            rows.append(
                (
                    line["item"],
                    original.proposed_quantity.normalize() if original else "-",
                    line["quantity"],
                    f"{Decimal(line['unit_cost']):,.2f} {obj.currency}",
                )
            )
        return format_html(
            "<table><tr><th>item</th><th>as proposed</th><th>at decision</th><th>unit cost</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="audit events of this proposal")
    def audit_events(self, obj):
        events = AuditEvent.objects.filter(
            object_type="proposal", object_id=str(obj.proposal_id)
        ).order_by("id")
        return format_html(
            "<table><tr><th>#</th><th>at</th><th>actor</th><th>action</th><th>rules</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        e.pk,
                        e.at.strftime("%Y-%m-%d %H:%M:%S"),
                        e.actor,
                        e.action,
                        ", ".join(e.rule_codes),
                    )
                    for e in events
                ),
            ),
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("smi_core.export_approval"):
            actions.pop("export_selected", None)
        return actions

    def changelist_view(self, request, extra_context=None):
        if request.GET.get("export") == "csv" and request.user.has_perm("smi_core.export_approval"):
            cl = self.get_changelist_instance(_without_export(request))
            return self._export(request, cl.get_queryset(request))
        extra_context = {**(extra_context or {}), "export_url": "?" + _with_export(request)}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Export the selected approvals as CSV")
    def export_selected(self, request, queryset):
        return self._export(request, queryset)

    def _export(self, request, queryset):
        header = [
            "approval",
            "proposal",
            "decision",
            "actor",
            "proposer",
            "proposed_at",
            "decided_at",
            "seconds_to_decide",
            "value",
            "currency",
            "agreement_version",
            "lines_hash",
            "rule_codes",
            "override",
            "po_number",
            "reason",
        ]
        rows = (
            [
                a.pk,
                a.proposal_id,
                a.decision,
                a.actor.get_username(),
                a.proposer,
                a.proposed_at.isoformat(),
                a.decided_at.isoformat(),
                int((a.decided_at - a.proposed_at).total_seconds()),
                a.value,
                a.currency,
                a.agreement_version,
                a.lines_hash,
                " ".join(a.rule_codes),
                a.override_id or "",
                a.proposal.po_number,
                a.reason,
            ]
            for a in queryset.select_related("actor", "proposal").order_by("decided_at", "id")
        )
        return export_csv(
            request=request,
            queryset=queryset,
            name=self.export_name,
            header=header,
            rows=rows,
            object_type="approval",
            title=self.export_title,
            scope=self.export_scope,
        )


def _without_export(request):
    clean = request.GET.copy()
    clean.pop("export", None)
    request.GET = clean
    return request


def _with_export(request) -> str:
    params = request.GET.copy()
    params["export"] = "csv"
    return params.urlencode()


class SodException(Approval):
    class Meta:
        proxy = True
        verbose_name = "SoD exception (denial or override)"
        verbose_name_plural = "SoD exceptions (denials and overrides)"


@admin.register(SodException)
class SodExceptionAdmin(ApprovalAdmin):
    export_name = "sod-exceptions"
    export_title = "SoD exceptions (denials and overrides)"
    export_scope = "decisions denied by SoD or approved with an override"

    def get_queryset(self, request):
        from django.db.models import Q

        return (
            super()
            .get_queryset(request)
            .filter(Q(decision=Approval.Decision.DENIED) | Q(override__isnull=False))
        )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly):
    change_list_template = "admin/smi_change_list_export.html"
    # At 1366 px: when, who, what, on what, which rules; ip, agent, before/after and the
    # hashes are on the event's page (and in the export).
    list_display = ["id", "at_text", "actor_text", "action", "object_ref", "rules", "short_hash"]
    list_filter = [
        ("at", admin.DateFieldListFilter),
        EventUserFilter,
        EventPOFilter,
        EventRuleFilter,
        "action",
        "object_type",
        "actor_type",
    ]
    search_fields = ["actor", "action", "object_id", "hash"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    @admin.display(description="rules")
    def rules(self, obj):
        return ", ".join(obj.rule_codes) or "-"

    @admin.display(description="hash")
    def short_hash(self, obj):
        return obj.hash[:10]

    @admin.display(description="actor", ordering="actor")
    def actor_text(self, obj):
        """A task's actor names its run by a UUID: the list shows its first 8 characters
        (the full id is on the event's page, in the tooltip and in the export)."""
        name, _, run = obj.actor.rpartition(":")
        if name and len(run) == 36 and run.count("-") == 4:
            return format_html('<span title="{}">{}:{}…</span>', obj.actor, name, run[:8])
        return obj.actor

    @admin.display(description="at", ordering="at")
    def at_text(self, obj):
        return timezone.localtime(obj.at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="on", ordering="object_type")
    def object_ref(self, obj):
        if obj.object_type == "proposal" and obj.object_id.isdigit():
            return format_html(
                '<a href="../replenishmentproposal/{}/change/">proposal #{}</a>',
                obj.object_id,
                obj.object_id,
            )
        return f"{obj.object_type} {obj.object_id}".strip()

    def changelist_view(self, request, extra_context=None):
        if request.GET.get("export") == "csv" and request.user.has_perm(
            "smi_core.export_auditevent"
        ):
            cl = self.get_changelist_instance(_without_export(request))
            header = [
                "id",
                "at",
                "actor_type",
                "actor",
                "action",
                "object_type",
                "object_id",
                "before",
                "after",
                "rule_codes",
                "ip",
                "user_agent",
                "task_id",
                "prev_hash",
                "hash",
            ]
            rows = (
                [
                    e.pk,
                    e.at.isoformat(),
                    e.actor_type,
                    e.actor,
                    e.action,
                    e.object_type,
                    e.object_id,
                    canonical(e.before) if e.before is not None else "",
                    canonical(e.after) if e.after is not None else "",
                    " ".join(e.rule_codes),
                    e.ip or "",
                    e.user_agent,
                    e.task_id,
                    e.prev_hash,
                    e.hash,
                ]
                for e in cl.get_queryset(request).order_by("id")
            )
            return export_csv(
                request=request,
                queryset=None,
                name="audit-events",
                header=header,
                rows=rows,
                object_type="audit",
                title="audit events (the hash-chained audit trail)",
            )
        extra_context = {**(extra_context or {}), "export_url": "?" + _with_export(request)}
        return super().changelist_view(request, extra_context)


@admin.register(SodRule)
class SodRuleAdmin(NoRevertHistoryAdmin):
    list_display = ["code", "kind", "active", "parameters", "reason"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from smi_core.services.sod_rules import sod_rule_save

        sod_rule_save(rule=obj, user=request.user, request=request)


class OverrideUserFilter(InputFilter):
    title = "user (requested, approver or granted)"
    parameter_name = "user"
    placeholder = "user name"

    def filter(self, queryset, value):
        from django.db.models import Q

        return queryset.filter(
            Q(requested_by__username__iexact=value)
            | Q(approver__username__iexact=value)
            | Q(granted_by__username__iexact=value)
        )


class OverridePOFilter(InputFilter):
    title = "PO number"
    parameter_name = "po"
    placeholder = "e.g. SMI0000012"

    def filter(self, queryset, value):
        return queryset.filter(proposal__po_number__icontains=value)


class OverrideRuleFilter(EventRuleFilter):
    pass


@admin.register(SodOverride)
class SodOverrideAdmin(ReadOnly):
    list_display = [
        "id",
        "proposal",
        "rule_codes",
        "requested_by",
        "approver",
        "granted_by",
        "granted_at",
        "used_at",
    ]
    list_filter = [
        ("requested_at", admin.DateFieldListFilter),
        ("granted_at", admin.DateFieldListFilter),
        OverrideUserFilter,
        OverridePOFilter,
        OverrideRuleFilter,
        ("used_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["proposal__po_number", "requested_by__username", "approver__username"]
    actions = ["grant"]

    def has_grant_permission(self, request):
        return request.user.has_perm("smi_core.grant_sodoverride")

    @admin.action(description="Grant the selected overrides", permissions=["grant"])
    def grant(self, request, queryset):
        from smi_core.exceptions import ApplicationError
        from smi_core.services.proposals import override_grant

        done = 0
        for override in queryset.order_by("pk"):
            try:
                override_grant(override_id=override.pk, user=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if done:
            self.message_user(request, f"{done} override(s) granted", messages.SUCCESS)


def chain_status() -> dict:
    """For the admin index: whether the audit chain verifies."""
    report = audit_verify()
    return {
        "intact": report.intact,
        "events": report.events,
        "head": report.head,
        "broken_at": report.broken_at,
        "reason": report.reason,
    }


_index = admin.site.index


def index_with_chain(request, extra_context=None):
    extra_context = {
        **(extra_context or {}),
        "audit_chain": chain_status() if request.user.is_staff else None,
    }
    return _index(request, extra_context)


admin.site.index = index_with_chain
admin.site.index_template = "admin/smi_index.html"


# -- users: roles are checked against SoD when they are assigned ------------------------

User = get_user_model()


class RoleCheckedUserAdmin(UserAdmin):
    def save_related(self, request, form, formsets, change):
        roles = {g.name for g in form.cleaned_data.get("groups", [])}
        super().save_related(request, form, formsets, change)
        audit_record(
            actor=Actor.user(request.user, request),
            action="roles.set",
            object_type="user",
            object_id=form.instance.pk,
            after={"roles": sorted(roles)},
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)

        class Checked(form):
            def clean(self):
                from smi_core.services.roles import exclusive_role_conflicts, role_conflict_record

                cleaned = super().clean()
                roles = {g.name for g in cleaned.get("groups", [])}
                conflicts = exclusive_role_conflicts(roles)
                for code, reason in conflicts:
                    self.add_error("groups", f"{code}: {reason}")
                if conflicts and self.instance.pk:
                    role_conflict_record(
                        user=self.instance,
                        roles=roles,
                        conflicts=conflicts,
                        actor=Actor.user(request.user, request),
                    )
                return cleaned

        return Checked


admin.site.unregister(User)
admin.site.register(User, RoleCheckedUserAdmin)
