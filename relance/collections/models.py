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


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class PromiseSource(models.TextChoices):
    COLLECTOR = "collector", _("Collector")
    PORTAL = "portal", _("Customer portal")
    EMAIL = "email", _("E-mail reply")
    API = "api", _("API")


class Promise(models.Model):
    """A customer's promise to pay ``amount`` by ``promised_for``; while open, dunning pauses for its documents."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises")
    documents = models.ManyToManyField(Document, related_name="promises", blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=3)
    currency = models.CharField(_("currency"), max_length=3)
    promised_for = models.DateField(_("promised for"))
    made_on = models.DateField(_("made on"))
    status = models.CharField(_("status"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=PromiseSource.choices, default=PromiseSource.COLLECTOR
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-made_on", "-id"]
        indexes = [models.Index(fields=["status", "promised_for"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="collections_promise_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="open", resolved_on__isnull=True)
                | (~Q(status="open") & Q(resolved_on__isnull=False)),
                name="collections_promise_resolution_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Promise {self.pk} ({self.amount} {self.currency} by {self.promised_for})"


class Activity(models.Model):
    """One line of a customer's collection history (see ``relance.collections.activity.KINDS``)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=30)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(_("actor"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"
