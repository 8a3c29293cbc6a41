"""The customer portal's records: signed links, payment selections (an RF reference for chosen invoices)
and online payment sessions.

Only a SHA-256 digest of a link's random token is stored; the token itself travels in the URL the customer
receives, signed with the installation's secret (see ``domain.sign_token``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import AMOUNT, Contact, Customer, Document, Payment
from relance.orgs.models import Company


class PortalLink(models.Model):
    """A link to one customer's portal, for one of its contacts; expiring and revocable."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_links")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="portal_links")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the random token.")
    prefix = models.CharField(max_length=8, db_index=True, help_text="First characters of the token, to name it.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "expires_at"])]

    def __str__(self) -> str:
        return f"portal link {self.prefix}… for {self.customer_id}"


class PaymentSelection(models.Model):
    """Invoices a customer chose to pay together, with the RF creditor reference that names them.

    Cash application reads a bank line carrying this reference as paying exactly these invoices.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_selections")
    link = models.ForeignKey(PortalLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="selections")
    documents = models.ManyToManyField(Document, related_name="portal_selections")
    key = models.CharField(max_length=64, help_text="Digest of the sorted document ids (one selection per set).")
    reference = models.CharField(_("creditor reference"), max_length=25, blank=True, db_index=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="portal_selection_unique_set"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="portal_selection_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.reference or f"selection {self.pk}"


class SessionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")


class PaymentSession(models.Model):
    """An online payment with a provider for a selection; becomes a ledger payment when the provider says paid."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_sessions")
    selection = models.ForeignKey(PaymentSelection, on_delete=models.PROTECT, related_name="sessions")
    link = models.ForeignKey(PortalLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions")
    provider = models.CharField(max_length=30)
    provider_ref = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.PENDING)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "provider_ref"], name="portal_session_provider_ref"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="portal_session_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=SessionStatus.values), name="portal_session_status"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_ref}"


class DisputeAttachment(models.Model):
    """A file the customer joined to a dispute from the portal (PDF, PNG or JPEG, checked by content)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_attachments")
    dispute = models.ForeignKey("collections.Dispute", on_delete=models.CASCADE, related_name="portal_attachments")
    file = models.FileField(upload_to="portal/disputes/%Y/%m/")
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name
