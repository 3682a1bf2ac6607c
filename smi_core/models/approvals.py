"""Approvals of replenishment proposals, the segregation-of-duties rules they are checked
against, overrides, and every status change of a proposal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from .planning import ReplenishmentProposal


class SodRule(models.Model):
    """A segregation-of-duties rule, as data: a code, what it checks, and why."""

    class Kind(models.TextChoices):
        PROPOSER_NOT_APPROVER = "proposer_not_approver", "The proposer may not approve"
        AUTHOR_NOT_APPROVER = (
            "author_not_approver",
            "Who set a line's current quantity may not approve",
        )
        RECENT_TERMS_CHANGE = (
            "recent_terms_change",
            "Who changed the agreement recently may not approve under it",
        )
        APPROVER_NOT_SHIPPER = "approver_not_shipper", "The approver may not ship the order"
        EXCLUSIVE_ROLES = "exclusive_roles", "Two roles one person may not hold together"
        PREPARER_NOT_APPROVER = (
            "preparer_not_approver",
            "Who prepared a settlement may not approve it",
        )

    code = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    reason = models.TextField(help_text="Why the rule exists, in words a person understands.")
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='e.g. {"days": 30} or {"roles": ["approver", "agreement_manager"]}',
    )
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = "SoD rule"

    def __str__(self) -> str:
        return f"{self.code}: {self.get_kind_display()}"


class SodOverride(models.Model):
    """Permission for one named approver to act despite SoD rules, for one proposal, with a
    written justification, granted by a third person (neither the requester, the proposer,
    whoever set a current quantity nor the approver) holding the override permission, until it
    expires."""

    proposal = models.ForeignKey(
        ReplenishmentProposal, on_delete=models.PROTECT, related_name="overrides"
    )
    rule_codes = models.JSONField(help_text="The rule codes it lifts.")
    justification = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The one person who may approve with this override; never its grantor.",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = "SoD override"
        permissions = [("grant_sodoverride", "Can grant segregation-of-duties overrides")]

    def __str__(self) -> str:
        return f"override of {', '.join(self.rule_codes)} on proposal #{self.proposal_id}"


class Approval(models.Model):
    """One decision on a proposal: approved, rejected, or denied by the SoD check. Binds
    the approval to the hash of the lines and the agreement version it saw."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        DENIED = "denied", "Denied by SoD"
        VOIDED = "voided", "Voided by a later edit"

    proposal = models.ForeignKey(
        ReplenishmentProposal, on_delete=models.PROTECT, related_name="approvals"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(db_index=True)
    proposer = models.CharField(max_length=150, blank=True)
    proposed_at = models.DateTimeField()
    value = models.DecimalField(max_digits=18, decimal_places=2)
    currency = models.CharField(max_length=3)
    lines_hash = models.CharField(max_length=64)
    lines = models.JSONField(help_text="The lines as approved (or as seen when denied).")
    agreement_version = models.PositiveIntegerField(null=True, blank=True)
    thresholds = models.JSONField(help_text="The agreement's terms in force at decision time.")
    rule_codes = models.JSONField(default=list, blank=True)
    override = models.ForeignKey(
        SodOverride, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        permissions = [("export_approval", "Can export approvals")]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} proposal #{self.proposal_id} by {self.actor}"

    @property
    def time_to_decide(self):
        return self.decided_at - self.proposed_at

    @property
    def overridden(self) -> bool:
        return self.override_id is not None


class ProposalStatusChange(models.Model):
    proposal = models.ForeignKey(
        ReplenishmentProposal, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    actor = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return (
            f"proposal #{self.proposal_id} {self.from_status} -> {self.to_status} by {self.actor}"
        )
