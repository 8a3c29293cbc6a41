"""Analytics' own summary table: each customer's payment behaviour, refreshed daily and after imports."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Customer


class CustomerBehaviour(models.Model):
    """A customer's payments of the 365 days up to ``as_of``: amount-weighted mean delay (payment − due date)
    and days to pay (payment − issue date). Used by the cash forecast; recomputed whole by
    ``analytics.services.behaviour_refresh``."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="behaviour")
    as_of = models.DateField(_("computed at"))
    delay_days = models.IntegerField(_("mean delay (days)"))
    days_to_pay = models.IntegerField(_("mean days to pay"))
    payments = models.PositiveIntegerField(_("allocations counted"))

    class Meta:
        verbose_name = _("customer payment behaviour")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.delay_days:+d} days"
