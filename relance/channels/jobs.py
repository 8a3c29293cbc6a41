"""Daily jobs of the channels (relance.core.scheduler)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core import clock
from relance.core.scheduler import daily, frequent

from . import idempotency, services

EVENTS_KEPT_DAYS = 90


@daily("idempotency_keys_prune")
def prune_idempotency_keys(as_of: dt.date) -> dict[str, Any]:
    """Delete API idempotency keys older than 24 hours."""
    return {"idempotency_keys_deleted": idempotency.prune(now=clock.now())}


@daily("webhooks")
def webhooks_housekeeping(as_of: dt.date) -> dict[str, Any]:
    """Safety net for the retry sweep, and deletion of finished webhook events older than 90 days."""
    result: dict[str, Any] = dict(services.retry_due())
    before = clock.now() - dt.timedelta(days=EVENTS_KEPT_DAYS)
    result["events_deleted"] = services.prune(before=before)
    return result


@frequent("webhooks_retry")
def webhooks_retry() -> dict[str, Any]:
    """Send the webhook deliveries whose next attempt is due (when no task worker has done it already)."""
    return dict(services.retry_due())


@daily("webhooks_overdue")
def documents_overdue(as_of: dt.date) -> dict[str, Any]:
    """Emit ``document.overdue`` for each open invoice that became overdue since the previous run.

    An invoice becomes overdue the day after its due date. A run on ``as_of`` covers the invoices that became
    overdue after the previous completed run, up to ``as_of`` (days without a run are caught up; nothing is
    sent twice); a first run covers yesterday's due dates only, so switching it on replays no history.
    """
    from relance.core.models import ScheduledRun
    from relance.ledger.models import Document

    from . import webhooks
    from .models import WebhookSubscription

    if not WebhookSubscription.objects.filter(active=True).exists():
        return {"emitted": 0}
    previous = (
        ScheduledRun.objects.filter(name="webhooks_overdue", status="done", date__lt=as_of)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    last_due = as_of - dt.timedelta(days=1)
    first_due = previous if previous else last_due  # the previous run covered due dates up to previous - 1
    docs = Document.objects.filter(
        type="invoice", open_amount__gt=0, due_date__gte=first_due, due_date__lte=last_due
    ).select_related("company", "customer")
    events = [
        (webhooks.DOCUMENT_OVERDUE, webhooks.document_data(doc), doc.company_id)
        for doc in docs.order_by("due_date", "pk").iterator(chunk_size=2000)
    ]
    services.emit_many(events)
    return {"emitted": len(events), "due_from": first_due.isoformat(), "due_to": last_due.isoformat()}
