"""Shipments of approved orders: the truck (shipment), its packs (one SSCC-18 label each)
and the order lines in each pack. An order is a replenishment proposal that was approved
and given a PO number; its lines say what was ordered, confirmed and shipped."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .parties import Location, Party
from .planning import QTY, ProposalLine, ReplenishmentProposal


class Shipment(models.Model):
    """What left the supplier for one ship-to location: carrier, bill of lading, dates.
    Its 856 is built from its packs and lines."""

    class Status(models.TextChoices):
        SHIPPED = "shipped", "Shipped"
        RECEIVED = "received", "Received"

    shipment_number = models.CharField(
        max_length=30, unique=True, help_text="BSN02: the supplier's shipment id."
    )
    supplier = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    ship_to = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SHIPPED, db_index=True
    )
    ship_date = models.DateField()
    estimated_delivery = models.DateField(null=True, blank=True)
    carrier_scac = models.CharField("carrier SCAC", max_length=4, blank=True)
    transport_method = models.CharField(
        max_length=2, default="M", help_text="TD504, e.g. M motor, A air, R rail."
    )
    bill_of_lading = models.CharField(max_length=30, blank=True)
    pro_number = models.CharField("PRO number", max_length=30, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.CharField(max_length=100, help_text="user:NAME or partner:CODE")
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"shipment {self.shipment_number} -> {self.ship_to} ({self.status})"


class ShipmentPack(models.Model):
    """One carton or pallet of one order, labelled with its SSCC-18."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="packs")
    order = models.ForeignKey(ReplenishmentProposal, on_delete=models.PROTECT, related_name="packs")
    sscc = models.CharField("SSCC-18", max_length=18, unique=True)

    class Meta:
        ordering = ["shipment_id", "id"]

    def __str__(self) -> str:
        return f"pack {self.sscc}"


class ShipmentLine(models.Model):
    """A quantity of one order line in one pack; received_quantity counts what the buyer
    reported received (852 QR) against it."""

    pack = models.ForeignKey(ShipmentPack, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        ProposalLine, on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.DecimalField(**QTY)
    received_quantity = models.DecimalField(**QTY, default=0)

    class Meta:
        ordering = ["pack_id", "id"]

    def __str__(self) -> str:
        return f"{self.order_line.item.vendor_item} x {self.quantity} in {self.pack.sscc}"
