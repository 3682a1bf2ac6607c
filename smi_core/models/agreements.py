"""Supply agreements between a buyer and a supplier, their item terms and the supplier's
weekly capacity. Every change keeps its history (who, when, what) so a plan can say which
version of the terms it used."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from simple_history.models import HistoricalRecords

from .parties import Item, Location, Party

MONEY = {"max_digits": 18, "decimal_places": 4}
QTY = {"max_digits": 18, "decimal_places": 4}


class SupplyAgreement(models.Model):
    class Ownership(models.TextChoices):
        CONSIGNMENT = (
            "consignment",
            "Consignment: the supplier owns the stock until the buyer consumes it",
        )
        BUYER_ON_RECEIPT = "buyer_on_receipt", "The buyer owns the stock on receipt"

    class Cadence(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    class BillingCycle(models.TextChoices):
        WEEKLY = "weekly", "Weekly (Monday to Sunday)"
        MONTHLY = "monthly", "Monthly (calendar month)"

    class ConsumptionBasis(models.TextChoices):
        SOLD = "sold", "Sold or used as reported (852 QS)"
        STOCK_DROP = "stock_drop", "Drop in stock on hand net of receipts (QA, QR)"

    class SettlementMethod(models.TextChoices):
        INVOICE = "invoice", "We invoice (810)"
        ERS = "ers", "Evaluated receipt settlement (the buyer self-bills)"

    code = models.SlugField(max_length=40, unique=True)
    buyer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="agreements_as_buyer")
    supplier = models.ForeignKey(
        Party, on_delete=models.PROTECT, related_name="agreements_as_supplier"
    )
    currency = models.CharField(max_length=3, help_text="ISO 4217, e.g. USD, EUR.")
    payment_terms_days = models.PositiveIntegerField(default=30)
    ownership = models.CharField(
        max_length=20, choices=Ownership.choices, default=Ownership.BUYER_ON_RECEIPT
    )
    intercompany = models.BooleanField(default=False)
    seller_gross_margin = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Intercompany seller's gross margin, 0.25 = 25 %.",
    )
    service_level = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.95"),
        help_text="Target cycle service level, 0.95 = 95 %.",
    )
    review_period_days = models.PositiveIntegerField(default=7)
    lead_time_days = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal(7))
    lead_time_sigma_days = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal(0))
    cadence = models.CharField(
        "852 cadence", max_length=8, choices=Cadence.choices, default=Cadence.WEEKLY
    )
    billing_cycle = models.CharField(
        max_length=8,
        choices=BillingCycle.choices,
        default=BillingCycle.MONTHLY,
        help_text="How often consumed consigned stock is settled.",
    )
    consumption_basis = models.CharField(
        max_length=10, choices=ConsumptionBasis.choices, default=ConsumptionBasis.SOLD
    )
    settlement_method = models.CharField(
        max_length=8, choices=SettlementMethod.choices, default=SettlementMethod.INVOICE
    )
    settlement_po_number = models.CharField(
        "settlement PO number",
        max_length=22,
        blank=True,
        help_text="The buyer's standing (blanket) purchase order that its consignment "
        "invoices cite (810 BIG04); blank when the buyer wants none.",
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    text = models.TextField(blank=True, help_text="The agreement's text, clause by clause.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service_level__gt=0) & models.Q(service_level__lt=1),
                name="service_level_between_0_and_1",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.supplier.code} -> {self.buyer.code})"

    @property
    def version(self) -> int | None:
        """The id of the latest history record: the version a plan can name."""
        latest = self.history.order_by("-history_id").values_list("history_id", flat=True).first()
        return latest


class AgreementTerm(models.Model):
    """Terms for one item, or one item at one location (which wins over the item's)."""

    agreement = models.ForeignKey(SupplyAgreement, on_delete=models.CASCADE, related_name="terms")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="agreement_terms")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    min_quantity = models.DecimalField(**QTY, null=True, blank=True)
    max_quantity = models.DecimalField(**QTY, null=True, blank=True)
    min_days = models.DecimalField(
        "minimum (days of supply)", max_digits=8, decimal_places=2, null=True, blank=True
    )
    max_days = models.DecimalField(
        "maximum (days of supply)", max_digits=8, decimal_places=2, null=True, blank=True
    )
    moq = models.DecimalField("minimum order quantity", **QTY, null=True, blank=True)
    pack_multiple = models.DecimalField(**QTY, null=True, blank=True)
    unit_cost = models.DecimalField(**MONEY, help_text="In the agreement's currency.")
    lead_time_days = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    net_selling_price = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="The buyer's estimated selling price less costs to sell, per unit, in the "
        "agreement's currency: the net realisable value, and the margin for GMROI.",
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "item", "location"], name="unique_term_per_item_location"
            ),
            models.UniqueConstraint(
                fields=["agreement", "item"],
                condition=models.Q(location__isnull=True),
                name="unique_term_per_item",
            ),
        ]

    def __str__(self) -> str:
        where = f" @ {self.location.code}" if self.location_id else ""
        return f"{self.agreement.code}: {self.item.vendor_item}{where}"


class SupplierCapacity(models.Model):
    """How many units a supplier can ship per week, of one item or of an item group."""

    supplier = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="capacities")
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    item_group = models.CharField(max_length=40, blank=True)
    units_per_week = models.DecimalField(**QTY)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "supplier capacities"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(item__isnull=False) & models.Q(item_group=""))
                | (models.Q(item__isnull=True) & ~models.Q(item_group="")),
                name="capacity_for_an_item_or_a_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.supplier.code}: {self.item or self.item_group} {self.units_per_week}/week"
