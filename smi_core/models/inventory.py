"""852 product activity and the inventory positions derived from it."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from .parties import Item, Location

QUANTITY = {"max_digits": 18, "decimal_places": 4}
ZERO = Decimal("0")


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
            # period_end: PostgreSQL partitions the table by it (migration 0018), and a
            # partitioned table's unique keys must hold it. A set has one period anyway.
            models.UniqueConstraint(
                fields=["source_set", "segment_number", "position", "period_end"],
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

    # 852 ingestion upserts up to 10^6 positions per set. Per-row deferred foreign-key
    # triggers would check each at commit (about 10 s for 10^6 rows), so the ingestion locks
    # the items and locations it resolves (FOR KEY SHARE, what those checks take, once per
    # set) and the keys are enforced by the application, as for ProductActivity. ``item``
    # needs no index of its own: the unique (item, location) index starts with it.
    item = models.ForeignKey(
        Item,
        on_delete=models.PROTECT,
        related_name="positions",
        db_constraint=False,
        db_index=False,
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="positions", db_constraint=False
    )
    on_hand = models.DecimalField(**QUANTITY, default=ZERO)
    on_order = models.DecimalField(**QUANTITY, default=ZERO)
    in_transit = models.DecimalField(**QUANTITY, default=ZERO)
    committed = models.DecimalField(**QUANTITY, default=ZERO)
    sold_last_period = models.DecimalField(**QUANTITY, default=ZERO)
    as_of = models.DateField(help_text="End of the report period the figures come from.")
    # No index: nothing looks positions up by set, and an index on a column every 852
    # changes would keep PostgreSQL from updating positions in place (HOT, see 0010).
    source_set = models.ForeignKey(
        "smi_edi.InboundSet",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
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


class StockLevel(models.Model):
    """The point-in-time stock ledger: per item-location and report period, the levels the
    buyer reported (QA on hand, QP on order, QI in transit, QC committed; a level the report
    does not state is carried forward from the period before) and the period's flows (QS
    sold, QR received; null when not reported). Written by the 852 apply, one
    INSERT ... SELECT per set; rebuilt from the activity rows by ``stock_ledger_rebuild``.

    Stock at a date D is the row with the latest ``period_end`` on or before D: one probe of
    the unique (item, location, period_end) index per item-location, whatever the length of
    the history. Positions stay the "now" view.
    """

    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    period_start = models.DateField()
    period_end = models.DateField()
    on_hand = models.DecimalField(**QUANTITY, null=True)
    on_order = models.DecimalField(**QUANTITY, null=True)
    in_transit = models.DecimalField(**QUANTITY, null=True)
    committed = models.DecimalField(**QUANTITY, null=True)
    sold = models.DecimalField(**QUANTITY, null=True)
    received = models.DecimalField(**QUANTITY, null=True)
    # Carried forward like the levels, so a figure at a date reads them from the same row:
    # the historical exchange rate of the stock is the rate of its last receipt (QR), or,
    # with none reported, of the first period the buyer reported the item-location.
    last_received = models.DateField(
        null=True, help_text="End of the latest period up to this one with a receipt (QR > 0)."
    )
    first_reported = models.DateField(
        null=True, help_text="End of the first period reported for this item-location."
    )
    source_set = models.ForeignKey(
        "smi_edi.InboundSet",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
        help_text="The last set that stated a figure of this period.",
    )
    # Running totals of this item-location's rows up to and including this one, so a
    # window's sums are the difference of two rows (the last on or before its end, the last
    # before its start): two probes of the (item, location, period_end) index instead of a
    # read of every period. Kept by the 852 apply with the row (and for the later rows when
    # a report comes late); quantities in ten-thousandths of a unit (exact integers).
    run_periods = models.IntegerField(default=0, help_text="Periods (rows) up to this one.")
    run_days = models.IntegerField(
        default=0, help_text="Days the periods up to this one cover (start to end, inclusive)."
    )
    run_sold_periods = models.IntegerField(default=0, help_text="Periods stating sales (QS).")
    run_selling_periods = models.IntegerField(default=0, help_text="Periods with sales <> 0.")
    run_on_hand_periods = models.IntegerField(default=0, help_text="Periods with an on-hand level.")
    run_in_stock_periods = models.IntegerField(default=0, help_text="Periods with on hand > 0.")
    run_sold = models.BigIntegerField(default=0, help_text="Units sold, in 1/10,000 units.")
    run_stock = models.BigIntegerField(
        default=0, help_text="Positive on-hand levels summed, in 1/10,000 units."
    )
    run_sold_in_stock = models.BigIntegerField(
        default=0, help_text="Units sold in periods with on hand > 0, in 1/10,000 units."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "location", "period_end"], name="one_stock_level_per_period"
            )
        ]
        # A figure over a window (turnover, service) reads the periods ending in it by this
        # index, not by scanning the whole history.
        indexes = [models.Index(fields=["period_end"], name="stock_level_period_end")]

    def __str__(self) -> str:
        return f"{self.item_id}@{self.location_id} {self.period_end}: {self.on_hand} on hand"
