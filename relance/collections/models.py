"""Collections records that the ledger foundation already needs: disputes.

Scenarios, the daily cycle, promises and the worklist build on this app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Customer, Document
from relance.orgs.models import Company


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED_CREDIT_NOTE = "credit_note", _("Resolved: credit note issued")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Resolved: paid")


class Dispute(models.Model):
    """A customer contests some documents; while open, dunning pauses for those documents only."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disputes")
    documents = models.ManyToManyField(Document, related_name="disputes")
    reason = models.CharField(_("reason"), max_length=40)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    opened_on = models.DateField(_("opened on"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_on__isnull=True)
                | (~Q(status="open") & Q(resolved_on__isnull=False)),
                name="collections_dispute_resolution_date",
            )
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} ({self.get_status_display()})"


class DisputeReason(models.TextChoices):
    PRICE = "price", _("Price or discount")
    QUANTITY = "quantity", _("Quantity delivered")
    QUALITY = "quality", _("Quality or damage")
    NOT_RECEIVED = "not_received", _("Goods or service not received")
    DUPLICATE = "duplicate", _("Duplicate invoice")
    OTHER = "other", _("Other")
