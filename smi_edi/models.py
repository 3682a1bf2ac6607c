"""EDI records. Interchanges and partners arrive with the 852 ingestion; the foundation
needs only the control number sequences."""

from django.db import models


class ControlNumberSequence(models.Model):
    """The last control number used for one partner and one envelope level.

    Incremented under a row lock (``SELECT ... FOR UPDATE`` on PostgreSQL, an immediate
    write transaction on SQLite), so two writers never get the same number.
    """

    class Kind(models.TextChoices):
        INTERCHANGE = "isa", "Interchange (ISA13)"
        GROUP = "gs", "Functional group (GS06)"
        SET = "st", "Transaction set (ST02)"

    partner_key = models.CharField(
        max_length=64, help_text="The partner the numbers are sent to, e.g. its ISA qualifier:id."
    )
    kind = models.CharField(max_length=3, choices=Kind.choices)
    last_value = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner_key", "kind"], name="unique_sequence_per_partner_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_key} {self.kind} @ {self.last_value}"
