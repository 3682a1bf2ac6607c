"""Exchange rates for finance figures, which parties a finance user may see, and the date
reports default to."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .parties import Party


class ExchangeRate(models.Model):
    """One unit of ``currency`` is worth ``rate`` units of ``quote`` on ``date``
    (EUR -> USD 1.10). A figure converted on a day uses the latest rate on or before it."""

    currency = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    date = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    source = models.CharField(max_length=100, blank=True, help_text="Where the rate came from.")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["currency", "quote", "-date"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "quote", "date"], name="one_rate_per_pair_and_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} {self.quote} on {self.date}"


class FinanceAccess(models.Model):
    """A finance user sees the figures of the parties granted here (buyers or suppliers);
    auditors and superusers see everything."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="finance_access"
    )
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="+")
    granted_by = models.CharField(max_length=100, blank=True)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "finance access"
        constraints = [
            models.UniqueConstraint(fields=["user", "party"], name="one_grant_per_user_party")
        ]

    def __str__(self) -> str:
        return f"{self.user} sees {self.party.code}"


class ReportingDate(models.Model):
    """The date finance reports default to when a request names none (a month-end being
    closed): one row for the whole site. Empty: today. Changed only through
    ``reporting_date_set`` (audited); an explicit as-of date always wins over it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    date = models.DateField(
        null=True,
        blank=True,
        help_text="Reports, the API, finance_report and the assistant default to this date; "
        "empty: today.",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why, e.g. closing November.")
    set_by = models.CharField(max_length=150, blank=True, editable=False)
    set_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "reporting date"  # one, for the site
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="one_reporting_date")]

    def __str__(self) -> str:
        return f"reporting date {self.date}" if self.date else "reporting date: today"
