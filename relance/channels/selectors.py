"""Webhook reads, always through the user's scope (and the manage_webhooks permission)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from relance.core import scope

from .models import WebhookDelivery, WebhookEvent, WebhookSubscription
from .services import MANAGE


def subscriptions(user: Any) -> QuerySet[WebhookSubscription]:
    scope.require(user, MANAGE)
    return scope.restrict(user, WebhookSubscription.objects.select_related("company", "created_by"))


def subscription(user: Any, subscription_id: int) -> WebhookSubscription:
    return scope.get_visible(user, subscriptions(user), pk=subscription_id)  # type: ignore[return-value]


def deliveries(
    user: Any, *, subscription_id: int | None = None, state: str = "", event_id: str = ""
) -> QuerySet[WebhookDelivery]:
    scope.require(user, MANAGE)
    rows = scope.restrict(user, WebhookDelivery.objects.select_related("event", "subscription"))
    if subscription_id is not None:
        rows = rows.filter(subscription_id=subscription_id)
    if state:
        rows = rows.filter(state=state)
    if event_id:
        rows = rows.filter(event_id=event_id)
    return rows


def delivery(user: Any, delivery_id: int) -> WebhookDelivery:
    return scope.get_visible(user, deliveries(user), pk=delivery_id)  # type: ignore[return-value]


def event(user: Any, event_id: str) -> WebhookEvent:
    scope.require(user, MANAGE)
    return scope.get_visible(user, WebhookEvent.objects.all(), pk=event_id)  # type: ignore[return-value]
