"""Archived periods of the 852 activity history (PostgreSQL partitions written to files)."""

from __future__ import annotations

from django.db import models


class ActivityArchive(models.Model):
    """One month of ``ProductActivity`` written to a compressed file and then detached from
    the table by ``activity_partitions archive``: where the rows went, what they hold and
    the sha256 the file had when it was verified, so audit can find and check them."""

    partition = models.CharField(max_length=63, db_index=True)
    period_from = models.DateField(help_text="First period end the partition held.")
    period_to = models.DateField(help_text="Period ends before this date (exclusive).")
    path = models.CharField(max_length=500, help_text="The .tsv.gz file (its manifest beside it).")
    sha256 = models.CharField(max_length=64)
    bytes = models.BigIntegerField()
    rows = models.BigIntegerField()
    quantity_total = models.DecimalField(max_digits=28, decimal_places=4)
    archived_at = models.DateTimeField(auto_now_add=True)
    dropped = models.BooleanField(
        default=False, help_text="The detached table was dropped (else kept, detached)."
    )

    class Meta:
        ordering = ["period_from"]

    def __str__(self) -> str:
        return f"{self.partition} ({self.rows} rows, {self.period_from} to {self.period_to})"
