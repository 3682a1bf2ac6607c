"""The SMI domain: parties, locations, items, product activity, inventory positions and the
exceptions queue. Quantities are Decimal (X12 R type); datetimes are UTC."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

QUANTITY = {"max_digits": 18, "decimal_places": 4}
ZERO = Decimal("0")


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


class ProductActivity(models.Model):
    """One 852 quantity: a report period, item, location, activity code (ZA01) and quantity,
    traced to the transaction set and segment it came from. Unknown codes are kept.

    The buyer is the location's party and the supplier the item's. This is the bulk fact
    table (10^6 rows per large file): rows are only ever inserted, by the ingestion service,
    with ids it has just read in the same transaction, so the foreign keys are enforced by
    the application (on_delete=PROTECT) rather than by per-row database triggers, and it
    carries only the two indexes its readers need.
    """

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="activity", db_constraint=False, db_index=False
    )
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        related_name="activity",
        db_constraint=False,
        db_index=False,
    )
    period_start = models.DateField()
    period_end = models.DateField()
    activity_code = models.CharField(max_length=3)
    quantity = models.DecimalField(**QUANTITY)
    unit = models.CharField(max_length=2)
    date_qualifier = models.CharField(max_length=3, blank=True)
    activity_date = models.DateField(null=True, blank=True)
    source_set = models.ForeignKey(
        "smi_edi.InboundSet",
        on_delete=models.PROTECT,
        related_name="activity",
        db_constraint=False,
        db_index=False,
    )
    segment_number = models.PositiveIntegerField(
        help_text="Segment (ZA or SDQ) in the file, ISA = 1."
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Location pair within an SDQ (1-10); 0 for ZA02."
    )

    class Meta:
        verbose_name_plural = "product activity"
        constraints = [
            models.UniqueConstraint(
                fields=["source_set", "segment_number", "position"],
                name="unique_activity_per_source_position",
            )
        ]
        indexes = [
            models.Index(fields=["item", "location", "period_end"], name="activity_item_loc_period")
        ]

    def __str__(self) -> str:
        return f"{self.period_end} {self.activity_code} {self.quantity} {self.unit}"


class InventoryPosition(models.Model):
    """The buyer's stock of one item at one location as of a report period end, derived from
    product activity. The buyer is the location's party, the supplier the item's."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="positions")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="positions")
    on_hand = models.DecimalField(**QUANTITY, default=ZERO)
    on_order = models.DecimalField(**QUANTITY, default=ZERO)
    in_transit = models.DecimalField(**QUANTITY, default=ZERO)
    committed = models.DecimalField(**QUANTITY, default=ZERO)
    sold_last_period = models.DecimalField(**QUANTITY, default=ZERO)
    as_of = models.DateField(help_text="End of the report period the figures come from.")
    source_set = models.ForeignKey(
        "smi_edi.InboundSet", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "location"], name="unique_position_per_item_location"
            )
        ]
        ordering = ["location__code", "item__vendor_item"]

    def __str__(self) -> str:
        return f"{self.item} @ {self.location}: {self.on_hand} on hand as of {self.as_of}"


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
        return f"{self.get_kind_display()}: {self.subject}"
