"""How PostgreSQL stores the 852 activity: one row per segment, its quantities in arrays."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from .inventory import QUANTITY


class ActivitySegment(models.Model):
    """One ZA (with its SDQ) or SDQ segment of an applied 852 on PostgreSQL: the item, code,
    unit and date the segment's quantities share, and per location (``positions`` 1-10 in
    the SDQ, 0 for a ZA02 quantity) its id and quantity, in three arrays of one length.

    :class:`~smi_core.models.ProductActivity` stays the one way to read the activity: on
    PostgreSQL it is a view that unnests these rows into one row per quantity (migration
    0022), on SQLite a plain table. Storing a segment per row writes a tenth of the rows
    and index entries an SDQ report would take as one row per quantity (a 50 MB 852: 466,000
    rows instead of 4.66 million), which keeps the 852 apply inside its time on a year of
    data. Written only by the 852 apply (COPY) and by the view's INSERT trigger; never read
    through this model, which exists so Django knows the table (tests' flushes empty it).
    The table exists on PostgreSQL only, partitioned by month of ``period_end`` as
    ``smi_core.services.partitions`` describes.
    """

    pk = models.CompositePrimaryKey("source_set_id", "segment_number", "period_end")
    source_set_id = models.BigIntegerField()
    segment_number = models.IntegerField(help_text="Segment (ZA or SDQ) in the file, ISA = 1.")
    period_start = models.DateField()
    period_end = models.DateField()
    item_id = models.BigIntegerField()
    activity_code = models.CharField(max_length=3)
    unit = models.CharField(max_length=2)
    date_qualifier = models.CharField(max_length=3, blank=True)
    activity_date = models.DateField(null=True, blank=True)
    locations = ArrayField(models.BigIntegerField())
    quantities = ArrayField(models.DecimalField(**QUANTITY))
    positions = ArrayField(models.SmallIntegerField())

    class Meta:
        db_table = "smi_core_activity_segment"

    def __str__(self) -> str:
        return f"set {self.source_set_id} segment {self.segment_number}"
