"""Background tasks of the channels: thin and idempotent (ids in, service call out)."""

from __future__ import annotations

from django_tasks import task

from . import services


@task()
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at a webhook delivery; a no-op if it is delivered, not due or being sent elsewhere."""
    delivery = services.deliver(delivery_id)
    return delivery.state if delivery is not None else "skipped"


@task()
def retry_webhooks() -> dict[str, int]:
    """The sweep: attempt every due delivery."""
    return services.retry_due()
