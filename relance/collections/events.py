"""Webhook data of collection records (as the API shows them) and their emission in the caller's transaction."""

from __future__ import annotations

from typing import Any

from relance.channels import webhooks

from .models import Dispute, Promise


def dispute_data(dispute: Dispute) -> dict[str, Any]:
    return {
        "id": dispute.pk,
        "company": dispute.company.code,
        "customer": webhooks.customer_ref(dispute.customer),
        "documents": [d.number for d in dispute.documents.order_by("number")],
        "reason": dispute.reason,
        "message": dispute.message,
        "status": dispute.status,
        "opened_on": dispute.opened_on.isoformat(),
        "resolved_on": dispute.resolved_on.isoformat() if dispute.resolved_on else None,
    }


def promise_data(promise: Promise) -> dict[str, Any]:
    return {
        "id": promise.pk,
        "company": promise.company.code,
        "customer": webhooks.customer_ref(promise.customer),
        "documents": [d.number for d in promise.documents.order_by("number")],
        "amount": webhooks._amount(promise.amount, promise.currency),
        "currency": promise.currency,
        "promised_for": promise.promised_for.isoformat(),
        "made_on": promise.made_on.isoformat(),
        "status": promise.status,
        "resolved_on": promise.resolved_on.isoformat() if promise.resolved_on else None,
        "source": promise.source,
    }


def emit_dispute_opened(dispute: Dispute) -> None:
    from relance.channels import services as channels

    channels.emit(webhooks.DISPUTE_OPENED, dispute_data(dispute), company_id=dispute.company_id)


def emit_promise_broken(promise: Promise) -> None:
    from relance.channels import services as channels

    channels.emit(webhooks.PROMISE_BROKEN, promise_data(promise), company_id=promise.company_id)
