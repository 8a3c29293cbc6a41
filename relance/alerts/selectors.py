"""Reading alerts, always through the user's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from relance.core import scope

from .models import Alert, AlertStatus


def alerts_for(user: Any, *, status: str | None = "live", kind: str | None = None) -> QuerySet[Alert]:
    """The alerts ``user`` may see. ``status``: 'live' (open or acknowledged), a status value, or None for all."""
    qs = scope.restrict(user, Alert.objects.select_related("company", "customer", "assigned_to"))
    if status == "live":
        qs = qs.filter(cleared_on__isnull=True)
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def open_count(user: Any) -> int:
    return alerts_for(user).filter(status=AlertStatus.OPEN).count()
