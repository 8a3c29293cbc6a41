"""Webhook writes: subscriptions, emitting events (the outbox), delivering, retrying and replaying.

* :func:`emit` / :func:`emit_many` run inside the caller's transaction: the event and one delivery
  per matching subscription are written with the change they describe, and sent after commit.
* :func:`deliver` makes one attempt. It first claims the delivery with a conditional UPDATE (pending,
  due, not claimed by another worker), so a delivery is never sent twice at once and never again
  once delivered. Failures are retried on the schedule of :mod:`relance.channels.domain`.
* :func:`retry_due` is the sweep (``relance webhooks retry``, the daily job, the worker's deferred
  tasks): it attempts every pending delivery whose ``next_attempt_at`` has passed.
* :func:`delivery_replay` sends a delivery again, with the same event id (receivers deduplicate on it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django_tasks.backends.immediate import ImmediateBackend

from relance.core import audit, clock, errors, scope
from relance.orgs.models import Company, User

from . import domain, webhooks
from .models import DeliveryState, WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger("relance.webhooks")

SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = 16
CLAIM_LEASE = dt.timedelta(seconds=webhooks.TIMEOUT_SECONDS + 50)  # a crashed sender's claim lapses after this
MANAGE = "manage_webhooks"

# Messages (rule 10: constants that tests import)
INVALID_URL = "{value!r} is not an http:// or https:// URL."
NO_EVENT_TYPES = "Give at least one event type; event types are: {choices}."
UNKNOWN_EVENT_TYPE = "Unknown event type {value!r}; event types are: {choices}."
SHORT_SECRET = "The secret must be at least {length} characters long (or leave it out to get a generated one)."
COMPANY_REQUIRED = (
    "Your scope is limited to some companies: give the company whose events the subscription receives ({choices})."
)
SUBSCRIPTION_INACTIVE = "Subscription {id} is inactive: its deliveries cannot be replayed."
SUBSCRIPTION_GONE = "The subscription was deactivated before this attempt."
NO_DELIVERIES = "Event {id} has no delivery to replay."


# --- subscriptions -------------------------------------------------------------------------------


def _check_manager(actor: Any) -> None:
    if isinstance(actor, User):
        scope.require(actor, MANAGE)


def clean_event_types(values: Iterable[str]) -> list[str]:
    """Event type names, checked against the registry, de-duplicated in the given order."""
    out: list[str] = []
    choices = ", ".join(webhooks.EVENT_TYPES)
    for value in values:
        name = str(value).strip()
        if not name:
            continue
        if name not in webhooks.EVENT_TYPES:
            raise errors.ValidationError(UNKNOWN_EVENT_TYPE.format(value=name, choices=choices), field="event_types")
        if name not in out:
            out.append(name)
    if not out:
        raise errors.ValidationError(NO_EVENT_TYPES.format(choices=choices), field="event_types")
    return out


def _clean_url(url: str) -> str:
    url = str(url or "").strip()
    try:
        URLValidator(schemes=list(webhooks.SCHEMES))(url)
    except DjangoValidationError:
        raise errors.ValidationError(INVALID_URL.format(value=url), field="url")
    if len(url) > 500:
        raise errors.ValidationError(INVALID_URL.format(value=url[:60] + "…"), field="url")
    return url


def _company_for(actor: Any, company: Company | str | None) -> Company | None:
    """The subscription's company, which must be within the actor's scope (as if unknown otherwise)."""
    if isinstance(company, str):
        code = company.strip().upper()
        company = Company.objects.filter(code=code).first() if code else None
        if code and company is None:
            raise errors.ValidationError(errors.UNKNOWN_COMPANY.format(code=code), field="company")
    if not isinstance(actor, User):
        return company
    visible = scope.restrict(actor, Company.objects.all())
    if company is None:
        if scope.scope_of(actor).level != scope.GROUP:
            codes = ", ".join(visible.order_by("code").values_list("code", flat=True)) or "none"
            raise errors.ValidationError(COMPANY_REQUIRED.format(choices=codes), field="company")
        return None
    if not visible.filter(pk=company.pk).exists():
        raise errors.ValidationError(errors.UNKNOWN_COMPANY.format(code=company.code), field="company")
    return company


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def subscription_create(
    *,
    actor: Any,
    url: str,
    event_types: Sequence[str],
    secret: str = "",
    company: Company | str | None = None,
    description: str = "",
) -> WebhookSubscription:
    """Subscribe ``url`` to ``event_types`` (of ``company`` only, if given). Without a secret, one is generated.

    The secret is returned on the object once; it is needed to sign and is never shown again.
    """
    _check_manager(actor)
    secret = str(secret or "").strip() or new_secret()
    if len(secret) < MIN_SECRET_LENGTH:
        raise errors.ValidationError(SHORT_SECRET.format(length=MIN_SECRET_LENGTH), field="secret")
    subscription = WebhookSubscription.objects.create(
        url=_clean_url(url),
        secret=secret,
        event_types=clean_event_types(event_types),
        company=_company_for(actor, company),
        description=str(description or "").strip()[:200],
        created_by=actor if isinstance(actor, User) else None,
    )
    audit.record(
        actor=actor,
        action="webhook.subscribe",
        obj=subscription,
        changes=audit.snapshot(subscription, ["url", "event_types", "company", "description", "active"]),
    )
    return subscription


@transaction.atomic
def subscription_delete(*, actor: Any, subscription: WebhookSubscription) -> None:
    """Delete a subscription and its delivery log; nothing more is sent to it."""
    if isinstance(actor, User):
        scope.require(actor, MANAGE, subscription)
    audit.record(
        actor=actor,
        action="webhook.unsubscribe",
        obj=subscription,
        changes=audit.snapshot(subscription, ["url", "event_types", "company"]),
    )
    subscription.delete()


# --- emitting: the outbox ------------------------------------------------------------------------

Emitted = tuple[str, dict[str, Any], int | None]  # (event type, data, company id)


def emit(event_type: str, payload: dict[str, Any], *, company_id: int | None = None) -> WebhookEvent | None:
    """Record an event and its deliveries in the current transaction; they are sent after commit.

    Returns the event, or None when no active subscription wants it (nothing is stored then).
    """
    return emit_many([(event_type, payload, company_id)])[0]


def emit_many(events: Iterable[Emitted]) -> list[WebhookEvent | None]:
    """:func:`emit` for many events at once (bulk inserts: a 10,000-row import stays fast)."""
    events = list(events)
    for event_type, _, _ in events:
        if event_type not in webhooks.EVENT_TYPES:
            raise LookupError(f"Unknown webhook event type {event_type!r}: register it in relance.channels.webhooks")
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    if not subscriptions or not events:
        return [None] * len(events)
    now = clock.now()
    out: list[WebhookEvent | None] = []
    rows: list[WebhookEvent] = []
    wanted: list[tuple[WebhookEvent, list[WebhookSubscription]]] = []
    for event_type, payload, company_id in events:
        matching = [s for s in subscriptions if s.wants(event_type, company_id)]
        if not matching:
            out.append(None)
            continue
        event = WebhookEvent(type=event_type, company_id=company_id, payload=payload, created_at=now)
        rows.append(event)
        wanted.append((event, matching))
        out.append(event)
    WebhookEvent.objects.bulk_create(rows, batch_size=500)
    deliveries = [
        WebhookDelivery(event=event, subscription=s, next_attempt_at=now, created_at=now)
        for event, matching in wanted
        for s in matching
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=500)
    ids = [d.pk for d in deliveries if d.pk is not None]
    if len(ids) < len(deliveries):  # a backend that does not return ids from bulk inserts
        ids = list(WebhookDelivery.objects.filter(event__in=rows).values_list("pk", flat=True))
    transaction.on_commit(lambda: enqueue(ids))
    return out


def enqueue(delivery_ids: Iterable[int], *, run_after: dt.datetime | None = None) -> None:
    """Hand deliveries to the task worker. A failure here loses nothing: the sweep sends them later."""
    from . import tasks

    task = tasks.deliver_webhook
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # no deferred tasks (immediate backend): the sweep retries
        task = task.using(run_after=run_after)
    backend = task.get_backend()
    # A queue in the database takes the whole batch in one transaction (10,000 deliveries of one import);
    # the immediate backend sends at once, and must not hold a transaction open while it does.
    batch = transaction.atomic() if not isinstance(backend, ImmediateBackend) else contextlib.nullcontext()
    try:
        with batch:
            for delivery_id in delivery_ids:
                task.enqueue(delivery_id)
    except Exception:  # the sweep is the safety net: the deliveries are due and will be found
        log.exception("could not enqueue webhook deliveries")


# --- delivering ----------------------------------------------------------------------------------


def _unclaimed(now: dt.datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def headers_for(delivery: WebhookDelivery, raw_body: bytes, timestamp: int) -> dict[str, str]:
    event = delivery.event
    return {
        "Content-Type": "application/json",
        "User-Agent": webhooks.USER_AGENT,
        "Relance-Event": event.type,
        "Relance-Event-Id": str(event.id),
        "Relance-Delivery": str(delivery.pk),
        "Relance-Timestamp": str(timestamp),
        "Relance-Signature": domain.signature_header(delivery.subscription.secret, timestamp, raw_body),
    }


def raw_body(event: WebhookEvent) -> bytes:
    return domain.body(event_id=str(event.id), event_type=event.type, created_at=event.created_at, data=event.payload)


def deliver(
    delivery_id: int, *, now: dt.datetime | None = None, transport: webhooks.Transport | None = None
) -> WebhookDelivery | None:
    """One attempt at ``delivery_id`` if it is pending, due and not being sent by someone else.

    Returns the delivery after the attempt, or None when there was nothing to do (already delivered,
    not yet due, failed for good, or claimed by another worker). Safe to call any number of times.
    """
    now = now or clock.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .filter(_unclaimed(now))
        .update(claimed_until=now + CLAIM_LEASE, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    if not subscription.active:
        answer = webhooks.HttpAnswer(None, error=SUBSCRIPTION_GONE)
        return _record(delivery, answer, now, final=True)
    body = raw_body(delivery.event)
    timestamp = int(clock.now().timestamp())
    answer = (transport or webhooks.TRANSPORT).post(
        subscription.url, body, headers_for(delivery, body, timestamp), webhooks.TIMEOUT_SECONDS
    )
    return _record(delivery, answer, now)


def _record(
    delivery: WebhookDelivery, answer: webhooks.HttpAnswer, now: dt.datetime, *, final: bool = False
) -> WebhookDelivery:
    delivery.last_status_code = answer.status
    delivery.last_response_body = domain.truncate(answer.body)
    delivery.last_error = answer.error or ("" if answer.ok else f"the receiver answered HTTP {answer.status}")
    delivery.claimed_until = None
    retry_at = None
    if answer.ok:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = DeliveryState.DELIVERED, clock.now(), None
    else:
        retry_at = (
            None
            if final
            else domain.next_attempt_at(delivery_id=delivery.pk, attempts=delivery.attempts, failed_at=now)
        )
        delivery.state = DeliveryState.PENDING if retry_at else DeliveryState.FAILED
        delivery.next_attempt_at = retry_at
    fields = [
        "state",
        "delivered_at",
        "next_attempt_at",
        "claimed_until",
        "last_status_code",
        "last_response_body",
        "last_error",
    ]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**{f: getattr(delivery, f) for f in fields})
    if retry_at is not None:
        enqueue([delivery.pk], run_after=retry_at)
    return delivery


def due(now: dt.datetime | None = None) -> QuerySet[WebhookDelivery]:
    """Pending deliveries whose time has come and that nobody is sending, oldest first."""
    now = now or clock.now()
    return (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .filter(_unclaimed(now))
        .order_by("next_attempt_at", "pk")
    )


def retry_due(
    *, now: dt.datetime | None = None, limit: int = 1000, transport: webhooks.Transport | None = None
) -> dict[str, int]:
    """The sweep: one attempt at each due delivery (at most ``limit``). Returns what happened."""
    now = now or clock.now()
    counts = {"attempted": 0, "delivered": 0, "retrying": 0, "failed": 0}
    for delivery_id in list(due(now).values_list("pk", flat=True)[:limit]):
        delivery = deliver(delivery_id, now=now, transport=transport)
        if delivery is None:
            continue
        counts["attempted"] += 1
        state = delivery.state if delivery.state != DeliveryState.PENDING else "retrying"
        counts[state] += 1
    return counts


# --- replaying -----------------------------------------------------------------------------------


@transaction.atomic
def delivery_replay(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (whatever its state), with the same event id and body, and a fresh retry budget."""
    if isinstance(actor, User):
        scope.require(actor, MANAGE, delivery)
    subscription = delivery.subscription
    if not subscription.active:
        raise errors.ValidationError(SUBSCRIPTION_INACTIVE.format(id=subscription.pk), field="subscription")
    now = clock.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PENDING, next_attempt_at=now, attempts=0, replays=F("replays") + 1
    )
    audit.record(
        actor=actor,
        action="webhook.replay",
        obj=delivery,
        changes={"event": str(delivery.event_id), "previous_state": delivery.state},
        company_id=subscription.company_id,
    )
    transaction.on_commit(lambda: enqueue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


def event_replay(*, actor: Any, event: WebhookEvent) -> list[WebhookDelivery]:
    """Replay every delivery of ``event`` whose subscription is still active."""
    deliveries = event.deliveries.select_related("subscription", "event").filter(subscription__active=True)
    if isinstance(actor, User):
        deliveries = scope.restrict(actor, deliveries)
    replayed = [delivery_replay(actor=actor, delivery=d) for d in deliveries.order_by("pk")]
    if not replayed:
        raise errors.ValidationError(NO_DELIVERIES.format(id=event.pk), field="event")
    return replayed


# --- housekeeping --------------------------------------------------------------------------------


def prune(*, before: dt.datetime) -> int:
    """Delete events older than ``before`` whose deliveries are all finished (delivered or failed)."""
    unfinished = WebhookDelivery.objects.filter(state=DeliveryState.PENDING).values("event_id")
    old = WebhookEvent.objects.filter(created_at__lt=before).exclude(pk__in=unfinished)
    _, per_model = old.delete()
    return per_model.get(WebhookEvent._meta.label, 0)
