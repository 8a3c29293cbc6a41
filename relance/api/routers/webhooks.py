"""Webhook management: subscriptions, the delivery log, replays (admins and credit managers).

See docs/webhooks.md for the events, the signature and the retry schedule.
"""

import datetime as dt
import uuid
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from relance.api import problems
from relance.api.auth import actor
from relance.api.pagination import Pagination
from relance.api.schemas import QuerySchema
from relance.channels import selectors, services, webhooks
from relance.channels.models import WebhookDelivery, WebhookSubscription

from ._common import reject_unknown_params, stable

router = Router(tags=["webhooks"])


class EventTypeOut(Schema):
    name: str = Field(examples=["payment.received"])
    description: str


class SubscriptionIn(Schema):
    model_config = {"extra": "forbid"}

    url: str = Field(max_length=500, description="http(s) URL that receives the events (POST, JSON).")
    event_types: list[str] = Field(min_length=1, description="Event types to receive (GET /webhooks/event-types).")
    secret: str | None = Field(
        None,
        min_length=services.MIN_SECRET_LENGTH,
        max_length=200,
        description="Signing secret; leave it out to get a generated one (returned once, in this answer).",
    )
    company: str | None = Field(
        None,
        max_length=20,
        description="Company code: only that company's events. Required for callers whose "
        "scope is limited to some companies; null: every company (group-wide callers only).",
    )
    description: str = Field("", max_length=200)


class SubscriptionOut(Schema):
    id: int
    url: str
    event_types: list[str]
    active: bool
    company: str | None = Field(description="Company code, or null for every company.")
    description: str
    created_by: str | None = Field(description="E-mail of the user who created it.")
    created_at: dt.datetime

    @staticmethod
    def resolve_company(obj: WebhookSubscription) -> str | None:
        return obj.company.code if obj.company_id else None

    @staticmethod
    def resolve_created_by(obj: WebhookSubscription) -> str | None:
        return obj.created_by.email if obj.created_by_id else None


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="The signing secret. Store it now: it is never shown again.")


class EventRef(Schema):
    id: uuid.UUID
    type: str
    created_at: dt.datetime


class DeliveryOut(Schema):
    id: int = Field(description="Sent as the Relance-Delivery header.")
    event: EventRef
    subscription_id: int
    url: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int = Field(description="Attempts since the delivery was created or last replayed.")
    replays: int
    next_attempt_at: dt.datetime | None = Field(description="When the next attempt is due (pending only).")
    last_attempt_at: dt.datetime | None
    last_status_code: int | None = Field(description="HTTP status of the last answer; null: no answer.")
    last_response_body: str = Field(description="The start of the last answer's body.")
    last_error: str
    delivered_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_url(obj: WebhookDelivery) -> str:
        return obj.subscription.url


class DeliveryDetailOut(DeliveryOut):
    data: dict[str, Any] = Field(description="The event's data, as sent.")

    @staticmethod
    def resolve_data(obj: WebhookDelivery) -> dict[str, Any]:
        return obj.event.payload  # type: ignore[no-any-return]


class DeliveryQuery(QuerySchema):
    subscription: int | None = Field(None, ge=1, description="Subscription id.")
    state: Literal["pending", "delivered", "failed"] | None = None
    event: uuid.UUID | None = Field(None, description="Event id (the body's id).")


@router.get(
    "/webhooks/event-types",
    response={200: list[EventTypeOut], **problems.responses()},
    summary="List webhook event types",
    description="The event types a subscription can receive (a stable, public vocabulary).",
)
def list_event_types(request: HttpRequest) -> list[dict[str, str]]:
    return [{"name": name, "description": text} for name, text in webhooks.EVENT_TYPES.items()]


@router.post(
    "/webhooks/subscriptions",
    response={201: SubscriptionCreatedOut, **problems.responses(403)},
    summary="Create a webhook subscription",
    description="Subscribes a URL to event types. The answer holds the signing secret, shown this once. "
    "Admins and credit managers only.",
)
def create_subscription(request: HttpRequest, subscription: SubscriptionIn) -> Status[WebhookSubscription]:
    created = services.subscription_create(
        actor=actor(request),
        url=subscription.url,
        event_types=subscription.event_types,
        secret=subscription.secret or "",
        company=subscription.company,
        description=subscription.description,
    )
    return Status(201, created)


@router.get(
    "/webhooks/subscriptions",
    response={200: list[SubscriptionOut], **problems.responses(403)},
    summary="List webhook subscriptions",
    description="The subscriptions of the caller's scope, ordered by id (secrets are never listed).",
)
@paginate(Pagination)
def list_subscriptions(request: HttpRequest) -> QuerySet[WebhookSubscription]:
    return stable(selectors.subscriptions(actor(request)))


@router.get(
    "/webhooks/subscriptions/{subscription_id}",
    response={200: SubscriptionOut, **problems.responses(403, 404)},
    summary="Get a webhook subscription",
)
def get_subscription(request: HttpRequest, subscription_id: int) -> WebhookSubscription:
    return selectors.subscription(actor(request), subscription_id)


@router.delete(
    "/webhooks/subscriptions/{subscription_id}",
    response={204: None, **problems.responses(403, 404)},
    summary="Delete a webhook subscription",
    description="Nothing more is sent to it; its delivery log is deleted with it.",
)
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    user = actor(request)
    services.subscription_delete(actor=user, subscription=selectors.subscription(user, subscription_id))
    return Status(204, None)


@router.get(
    "/webhooks/deliveries",
    response={200: list[DeliveryOut], **problems.responses(403)},
    summary="List webhook deliveries",
    description="The delivery log: one row per event and subscription, with the last attempt's outcome.",
)
@paginate(Pagination)
def list_deliveries(request: HttpRequest, filters: Query[DeliveryQuery]) -> QuerySet[WebhookDelivery]:
    reject_unknown_params(request, DeliveryQuery)
    rows = selectors.deliveries(
        actor(request),
        subscription_id=filters.subscription,
        state=filters.state or "",
        event_id=str(filters.event) if filters.event else "",
    )
    return stable(rows)


@router.get(
    "/webhooks/deliveries/{delivery_id}",
    response={200: DeliveryDetailOut, **problems.responses(403, 404)},
    summary="Get a webhook delivery",
)
def get_delivery(request: HttpRequest, delivery_id: int) -> WebhookDelivery:
    return selectors.delivery(actor(request), delivery_id)


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response={202: DeliveryOut, **problems.responses(403, 404)},
    summary="Replay a webhook delivery",
    description="Sends the delivery again, whatever its state, with the same event id and body (receivers "
    "deduplicate on the id) and a fresh retry budget. The attempt runs in the background.",
)
def replay_delivery(request: HttpRequest, delivery_id: int) -> Status[WebhookDelivery]:
    user = actor(request)
    delivery = services.delivery_replay(actor=user, delivery=selectors.delivery(user, delivery_id))
    return Status(202, delivery)
