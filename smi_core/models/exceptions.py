"""The exceptions queue."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .parties import Item, Location, Party


class ExceptionItem(models.Model):
    """Something a person must look at: an unknown item or location, an unexpected unit, an
    implausible value, a stale report. One open row per kind and subject; repeats count up."""

    class Kind(models.TextChoices):
        UNKNOWN_ITEM = "unknown_item", "Unknown item"
        UNKNOWN_LOCATION = "unknown_location", "Unknown location"
        UNEXPECTED_UNIT = "unexpected_unit", "Quantity in an unexpected unit"
        NEGATIVE_ON_HAND = "negative_on_hand", "Negative on hand"
        SUDDEN_JUMP = "sudden_jump", "Sudden jump in on hand"
        STALE_REPORT = "stale_report", "Report older than what is applied"
        AUTO_REGISTERED = "auto_registered", "Item or location created from an 852"
        UNKNOWN_RECEIVER = "unknown_receiver", "Interchange addressed to someone else"
        MAPPING_PROBLEM = "mapping_problem", "852 content that could not be mapped"
        PROJECTED_STOCKOUT = "projected_stockout", "Projected stockout before the next delivery"
        EXCESS_STOCK = "excess_stock", "Stock above the agreed maximum"
        STALE_DATA = "stale_data", "No 852 within the agreed cadence"
        FORECAST_ERROR = "forecast_error", "Forecast error above the threshold"
        CAPACITY_SHORTFALL = "capacity_shortfall", "Supplier capacity exceeded"
        ITEM_WITHOUT_COST = "item_without_cost", "Item with no cost in the agreement"
        ACK_OVERDUE = "ack_overdue", "No 997/999 for a document we sent"
        DOCUMENT_REJECTED = "document_rejected", "A partner rejected a document we sent"
        UNMATCHED_850 = "unmatched_850", "An 850 that matches no approved order"
        UNMATCHED_ACK = "unmatched_ack", "A 997/999 that answers nothing we sent"
        DELIVERY_FAILED = "delivery_failed", "A document could not be delivered"
        DOCUMENT_INVALID = "document_invalid", "A document we built failed our validation"
        PAYMENT_SHORT = "payment_short", "A payment below the invoice's open amount"
        PAYMENT_OVER = "payment_over", "A payment above the invoice's open amount"
        PAYMENT_DEDUCTION = "payment_deduction", "A deduction the buyer took from a payment"
        PAYMENT_UNMATCHED = "payment_unmatched", "A payment that matches no invoice"
        ERS_DIFFERENCE = "ers_difference", "The buyer's self-billed amount differs from ours"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=24, choices=Kind.choices, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    partner = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(
        max_length=200, help_text="What it is about, e.g. 'UP:012345678905'."
    )
    message = models.TextField()
    action = models.TextField(help_text="What to do about it.")
    details = models.JSONField(default=dict, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    item = models.ForeignKey(
        Item, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_set = models.ForeignKey(
        "smi_edi.InboundSet",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="exceptions",
    )
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who works on it (the queue's owner of this exception).",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "exception"
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "partner", "subject"],
                condition=models.Q(status="open"),
                name="one_open_exception_per_subject",
            )
        ]

    def __str__(self) -> str:
        # By code (not the database ids planning keys its subjects with) where it is known.
        if self.item_id and self.location_id:
            return f"{self.get_kind_display()}: {self.item.vendor_item} at {self.location.code}"
        return f"{self.get_kind_display()}: {self.subject}"
