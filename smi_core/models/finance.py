"""Exchange rates for finance figures, and which parties a finance user may see."""

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
