"""The append-only activity log / audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """Who changed what, when, on which object. Rows are never updated or deleted."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, help_text="E-mail of the user, or 'system', 'cli'...")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True)
    # The customer the change concerns, if any: the activity of the customer 360 page.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    company_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit entries are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit entries are append-only.")


class ScheduledRun(models.Model):
    """One run of a daily job for one business date: the unique key makes the scheduler idempotent."""

    name = models.CharField(max_length=60)
    date = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, default="running")  # running | done | failed
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-date", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "date"], name="core_scheduledrun_once_a_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.date} {self.status}"
