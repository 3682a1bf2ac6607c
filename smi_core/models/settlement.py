"""Consignment settlement: what the buyer owes for the stock it consumed in a billing cycle
(an invoice, or the hub's own figure under evaluated receipt settlement), the credit and
debit memos that correct an issued invoice, and the buyer's remittances (820) applied to
them. Money is Decimal in the agreement's currency; an issued document is never edited."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .agreements import SupplyAgreement
from .parties import Item, Location, Party

MONEY = {"max_digits": 18, "decimal_places": 2}
PRICE = {"max_digits": 18, "decimal_places": 4}
QTY = {"max_digits": 18, "decimal_places": 4}


class SettlementInvoice(models.Model):
    """One settlement document: a consumption invoice for an agreement's billing cycle, or
    a credit/debit memo referencing an issued one. ``total`` is signed: a credit memo's is
    negative, so the balance owed by a buyer is the sum of ``total - paid``."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT_MEMO = "credit_memo", "Credit memo"
        DEBIT_MEMO = "debit_memo", "Debit memo"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        ISSUED = "issued", "Issued"
        PARTIALLY_PAID = "partially_paid", "Partially paid"
        PAID = "paid", "Paid"

    class Method(models.TextChoices):
        INVOICE = "invoice", "Invoice (we send an 810)"
        ERS = "ers", "Evaluated receipt settlement (the buyer self-bills)"

    number = models.CharField(max_length=22, unique=True, help_text="BIG02 of the 810.")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.INVOICE)
    agreement = models.ForeignKey(
        SupplyAgreement, on_delete=models.PROTECT, related_name="settlements"
    )
    buyer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    original = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memos",
        help_text="The issued invoice a memo corrects.",
    )
    cycle_start = models.DateField()
    cycle_end = models.DateField()
    invoice_date = models.DateField(null=True, blank=True, help_text="Set when issued.")
    due_date = models.DateField(null=True, blank=True, help_text="Invoice date + payment terms.")
    currency = models.CharField(max_length=3)
    total = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY, default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PROPOSED, db_index=True
    )
    reason = models.TextField(blank=True, help_text="Why a memo was made.")
    notes = models.JSONField(
        default=list, blank=True, help_text="What was left out and why (no price, no data)."
    )
    source_sets = models.JSONField(
        default=list, blank=True, help_text="Ids of the 852 sets the quantities came from."
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    document = models.ForeignKey(
        "smi_edi.OutboundDocument",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The 810 that carried it (none under ERS).",
    )

    class Meta:
        ordering = ["-cycle_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "cycle_start"],
                condition=models.Q(kind="invoice"),
                name="one_invoice_per_agreement_cycle",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", original__isnull=True)
                | (~models.Q(kind="invoice") & models.Q(original__isnull=False)),
                name="memo_references_its_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(cycle_end__gte=models.F("cycle_start")),
                name="settlement_cycle_in_order",
            ),
        ]
        permissions = [
            ("approve_settlementinvoice", "Can approve settlements"),
            ("issue_settlementinvoice", "Can issue settlements"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} ({self.currency} {self.total:,.2f})"

    @property
    def balance(self):
        return self.total - self.paid


class SettlementLine(models.Model):
    """Consumption of one item at one location in the cycle, priced at the agreed price,
    with the sets it came from and the figures it was worked out from."""

    invoice = models.ForeignKey(SettlementInvoice, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QTY)
    unit = models.CharField(max_length=2, default="EA")
    unit_price = models.DecimalField(**PRICE)
    amount = models.DecimalField(**MONEY)
    basis = models.JSONField(
        default=dict, blank=True, help_text="sold, or opening + received - closing on hand."
    )
    source_sets = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["invoice", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "line_number"], name="one_settlement_line_number"
            )
        ]

    def __str__(self) -> str:
        quantity = f"{self.quantity.normalize():f}"
        return f"{self.invoice.number} line {self.line_number}: {quantity} {self.unit}"


class SettlementStatusChange(models.Model):
    invoice = models.ForeignKey(
        SettlementInvoice, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.invoice.number} {self.from_status} -> {self.to_status} by {self.actor}"


class Remittance(models.Model):
    """One payment the buyer reported (820 BPR/TRN), applied to our settlements."""

    payer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    trace_number = models.CharField(max_length=50, help_text="TRN02.")
    payment_date = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=3, blank=True, help_text="BPR04, e.g. ACH, CHK.")
    source_set = models.ForeignKey(
        "smi_edi.InboundSet",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-payment_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "trace_number"], name="one_remittance_per_payer_trace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trace_number}: {self.currency} {self.amount:,.2f} on {self.payment_date}"


class PaymentApplication(models.Model):
    """One remittance line (RMR) and what it was matched to: the amount paid, the buyer's
    own figure for the invoice, and its deductions (ADX) with their reason codes."""

    class MatchedBy(models.TextChoices):
        NUMBER = "number", "Invoice number"
        AMOUNT_DATE = "amount_date", "Amount and date"
        CYCLE = "cycle", "The buyer's self-billed cycle (ERS)"
        UNMATCHED = "unmatched", "Not matched"

    remittance = models.ForeignKey(Remittance, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(
        SettlementInvoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    reference = models.CharField(max_length=50, blank=True, help_text="RMR02 as the buyer sent it.")
    paid = models.DecimalField(**MONEY)
    invoice_amount = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="RMR05: the buyer's figure for the invoice."
    )
    discount = models.DecimalField(**MONEY, default=0)
    adjustments = models.JSONField(
        default=list, blank=True, help_text='[{"amount": "-50.00", "reason": "CS"}]'
    )
    matched_by = models.CharField(max_length=12, choices=MatchedBy.choices)

    class Meta:
        ordering = ["remittance", "id"]

    def __str__(self) -> str:
        return f"{self.reference or '?'}: {self.paid:,.2f} ({self.get_matched_by_display()})"
