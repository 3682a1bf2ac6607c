"""Planning runs, the forecast kept per series, and replenishment proposals with the numbers
behind every line."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from .agreements import SupplyAgreement
from .parties import Item, Location, Party

QTY = {"max_digits": 18, "decimal_places": 4}


class PlanRun(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", "By hand"
        SCHEDULE = "schedule", "Schedule"
        INGEST = "ingest", "After an 852"

    as_of = models.DateField()
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    actor = models.CharField(max_length=100)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    item_locations = models.PositiveIntegerField(default=0)
    proposals = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    exceptions = models.PositiveIntegerField(default=0)
    scope = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"plan #{self.pk} as of {self.as_of} ({self.trigger})"


class SeriesForecast(models.Model):
    """The latest forecast of one item-location's demand per week, and how it was made."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10)
    classification = models.CharField(max_length=14)
    demand_per_week = models.DecimalField(**QTY)
    sigma_per_week = models.DecimalField(**QTY)
    adi = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    cv2 = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    mase = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    observations = models.PositiveIntegerField()
    as_of = models.DateField()
    plan_run = models.ForeignKey(PlanRun, on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "location"], name="unique_forecast_per_item_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item.vendor_item} @ {self.location.code}: {self.demand_per_week}/week ({self.method})"


class ReplenishmentProposal(models.Model):
    """What the supplier proposes to send one buyer location: one per supplier, buyer and
    ship-to location, with a line per item."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ORDERED = "ordered", "Ordered (855 sent)"
        SHIPPED = "shipped", "Shipped (856 sent)"
        RECEIVED = "received", "Received"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    # Proposed, approved and ordered quantities are not yet on the buyer's books as on
    # order or in transit: planning counts them in the inventory position.
    PENDING = (Status.PROPOSED, Status.APPROVED, Status.ORDERED)

    supplier = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    ship_to = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(
        SupplyAgreement, on_delete=models.PROTECT, related_name="proposals"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PROPOSED, db_index=True
    )
    currency = models.CharField(max_length=3)
    value = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal(0))
    as_of = models.DateField()
    plan_run = models.ForeignKey(
        PlanRun, on_delete=models.SET_NULL, null=True, related_name="proposal_set"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=100, help_text="user:NAME or task:NAME")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_edited_at = models.DateTimeField(null=True, blank=True)
    po_number = models.CharField("PO number", max_length=22, blank=True, db_index=True)
    po_source = models.CharField(
        "PO from",
        max_length=8,
        choices=[("smi", "SMI Hub (supplier-generated)"), ("850", "The buyer's 850")],
        blank=True,
    )
    po_date = models.DateField("PO date", null=True, blank=True)
    requested_delivery = models.DateField(null=True, blank=True)
    erp_reference = models.CharField(
        "ERP order", max_length=30, blank=True, help_text="The supplier's own order number (BAK08)."
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_replenishmentproposal", "Can approve or reject replenishment proposals"),
            ("ship_replenishmentproposal", "Can ship approved orders"),
        ]

    def __str__(self) -> str:
        return f"proposal #{self.pk} {self.supplier.code} -> {self.ship_to} ({self.status})"


class ProposalLine(models.Model):
    """One item of a proposal, with every input and intermediate number it was computed from."""

    proposal = models.ForeignKey(
        ReplenishmentProposal, on_delete=models.CASCADE, related_name="lines"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QTY)
    proposed_quantity = models.DecimalField(
        **QTY, help_text="The quantity as planning proposed it."
    )
    raw_quantity = models.DecimalField(**QTY)
    quantity_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who set the current quantity by an actual change (empty: as planning proposed "
        "it). A save that changes nothing leaves it alone; SOD-05 keys on it.",
    )
    quantity_set_at = models.DateTimeField(null=True, blank=True)
    unit_cost = models.DecimalField(max_digits=18, decimal_places=4)
    line_number = models.CharField(
        "PO line", max_length=20, blank=True, help_text="PO101: ours, or the buyer's from its 850."
    )
    ordered_quantity = models.DecimalField(
        **QTY, null=True, blank=True, help_text="What the PO asks for (the buyer's 850 quantity)."
    )
    confirmed_quantity = models.DecimalField(
        **QTY, null=True, blank=True, help_text="What the supplier confirmed (855 ACK02)."
    )
    ack_code = models.CharField(
        "ACK code",
        max_length=2,
        blank=True,
        choices=[
            ("IA", "IA accepted"),
            ("IQ", "IQ quantity changed"),
            ("IB", "IB backordered"),
            ("IR", "IR rejected"),
            ("DR", "DR date rescheduled"),
        ],
    )
    requested_date = models.DateField(null=True, blank=True)
    promised_date = models.DateField(
        null=True, blank=True, help_text="The ship date promised in the 855."
    )
    ack_note = models.CharField(max_length=200, blank=True)
    explanation = models.JSONField(
        default=dict,
        help_text="demand, sigma, z, safety stock, reorder point, order-up-to, the inventory position and its "
        "parts, raw and rounded quantity, rounding steps, capacity cut, agreement version",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "item"], name="unique_item_per_proposal")
        ]

    def __str__(self) -> str:
        return f"{self.item.vendor_item} x {self.quantity}"
