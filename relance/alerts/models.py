"""Monitoring alerts: one row per condition while it lasts (kind, company, customer, key).

An alert is raised by a daily rule or a service (:func:`relance.alerts.services.alert_raise`), never
twice while its condition lasts, and cleared (``cleared_on`` set, status ``closed``) when it ends.
A user acknowledges it, assigns it to someone, and comments on it; each of these is audited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Customer
from relance.orgs.models import Company


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


# Titles in the reader's language, by kind: "{placeholders}" filled from the alert's data. Apps that raise
# alerts register theirs (relance.risk does in its AppConfig.ready), or a callable rendering the data (e.g. money
# formatted for the reader); unknown kinds show the stored title.
TITLES: dict[str, Any] = {}


def register_title(kind: str, text: Any) -> None:
    TITLES[kind] = text


class Alert(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(_("kind"), max_length=40)
    key = models.CharField(_("key"), max_length=120, blank=True, default="")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)
    status = models.CharField(_("status"), max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    raised_on = models.DateField(_("raised on"))
    raised_at = models.DateTimeField(_("raised at"))
    cleared_on = models.DateField(_("cleared on"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_alerts"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-raised_on", "-id"]
        constraints = [
            # never two live alerts for the same condition (two constraints: NULL customers are distinct in SQL)
            models.UniqueConstraint(
                fields=["kind", "company", "customer", "key"],
                condition=Q(cleared_on__isnull=True, customer__isnull=False),
                name="alerts_alert_live_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "company", "key"],
                condition=Q(cleared_on__isnull=True, customer__isnull=True),
                name="alerts_alert_live_company_unique",
            ),
            models.CheckConstraint(condition=Q(status__in=AlertStatus.values), name="alerts_alert_status"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="alerts_alert_severity"),
            models.CheckConstraint(
                condition=Q(status="closed", cleared_on__isnull=False)
                | (~Q(status="closed") & Q(cleared_on__isnull=True)),
                name="alerts_alert_closed_when_cleared",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "status"]),
            models.Index(fields=["customer", "kind"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_live(self) -> bool:
        return self.cleared_on is None

    @property
    def display_title(self) -> str:
        """The title in the active language when the kind registered one, else the stored title."""
        text = TITLES.get(self.kind)
        if text is None:
            return self.title
        try:
            if callable(text):  # a renderer taking the alert's data (e.g. amounts formatted for the reader)
                return str(text(self.data or {}))
            return str(text).format(**(self.data or {}))
        except (KeyError, IndexError, ValueError, ArithmeticError):
            return self.title


class AlertComment(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Digest(models.Model):
    """The daily alert digest of one user for one date: claimed before sending, so it is never sent twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    alerts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "user_id"]
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="alerts_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Digest {self.user_id} {self.day}"
