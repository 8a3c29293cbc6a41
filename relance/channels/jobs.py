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
