"""Parties, their locations, items and buyers' item numbers."""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class Party(models.Model):
    """An organisation we trade with or act for: a buyer, a supplier, or both."""

    class Role(models.TextChoices):
        BUYER = "buyer", "Buyer"
        SUPPLIER = "supplier", "Supplier"
        BOTH = "both", "Buyer and supplier"

    code = models.SlugField(
        max_length=32, unique=True, help_text="Short code used on the command line."
    )
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=10, choices=Role.choices)
    gln = models.CharField("GLN", max_length=13, blank=True)
    duns = models.CharField("DUNS", max_length=13, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "parties"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_buyer(self) -> bool:
        return self.role in (self.Role.BUYER, self.Role.BOTH)

    @property
    def is_supplier(self) -> bool:
        return self.role in (self.Role.SUPPLIER, self.Role.BOTH)


class Location(models.Model):
    """A buyer's store or distribution centre, known by the buyer's code, a GLN or a DUNS."""

    class Kind(models.TextChoices):
        STORE = "store", "Store"
        DC = "dc", "Distribution centre"
        OTHER = "other", "Other"

    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(
        max_length=48, help_text="The buyer-assigned location id (qualifier 92)."
    )
    name = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STORE)
    gln = models.CharField("GLN", max_length=13, blank=True, db_index=True)
    duns = models.CharField("DUNS", max_length=13, blank=True)
    needs_review = models.BooleanField(
        default=False, help_text="Created automatically from an 852; check it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["party__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["party", "code"], name="unique_location_code_per_party")
        ]

    def __str__(self) -> str:
        return f"{self.party.code}/{self.code}" + (f" {self.name}" if self.name else "")


class Item(models.Model):
    """A supplier's item: GTIN/UPC, the supplier's own number, unit and pack size."""

    supplier = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="items")
    vendor_item = models.CharField("vendor item number", max_length=48)
    gtin = models.CharField(
        "GTIN", max_length=14, blank=True, db_index=True, help_text="GTIN-14, zero-padded."
    )
    description = models.CharField(max_length=200, blank=True)
    unit = models.CharField(
        max_length=2, default="EA", help_text="X12 unit of measure (355), e.g. EA, CA."
    )
    pack_size = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("1"))
    group = models.CharField(
        max_length=40, blank=True, help_text="Item group, e.g. for supplier capacity."
    )
    needs_review = models.BooleanField(
        default=False, help_text="Created automatically from an 852; check it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier__code", "vendor_item"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "vendor_item"], name="unique_vendor_item_per_supplier"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vendor_item} {self.description}".strip()


class ItemCrossReference(models.Model):
    """The buyer's own number for one of our items."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="cross_references")
    buyer = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="item_cross_references")
    buyer_item = models.CharField("buyer item number", max_length=48)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "buyer_item"], name="unique_buyer_item_per_buyer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.buyer.code}:{self.buyer_item} -> {self.item.vendor_item}"
