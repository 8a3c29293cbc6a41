"""Reads of collection records for a user, always through ``relance.core.scope``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from relance.core import scope

from .models import Activity, Dispute, DisputeStatus, Promise, PromiseStatus


def disputes(user: Any, *, customer_id: int | None = None, status: str | None = None) -> QuerySet[Dispute]:
    qs = scope.restrict(user, Dispute.objects.all()).select_related("customer", "owner")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def open_disputes(user: Any, *, customer_id: int | None = None) -> QuerySet[Dispute]:
    """Open disputes (of one customer, if given) the user may see, oldest first."""
    return disputes(user, customer_id=customer_id, status=DisputeStatus.OPEN).order_by("opened_on", "id")


def promises(user: Any, *, customer_id: int | None = None, status: str | None = None) -> QuerySet[Promise]:
    qs = scope.restrict(user, Promise.objects.all()).select_related("customer", "created_by")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def open_promises(user: Any, *, customer_id: int | None = None) -> QuerySet[Promise]:
    """Open promises to pay (of one customer, if given) the user may see, soonest first."""
    return promises(user, customer_id=customer_id, status=PromiseStatus.OPEN).order_by("promised_for", "id")


def activities(user: Any, *, customer_id: int | None = None) -> QuerySet[Activity]:
    """The collection history the user may see, newest first."""
    qs = scope.restrict(user, Activity.objects.all()).select_related("user")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs
