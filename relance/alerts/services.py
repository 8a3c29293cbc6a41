"""Writing alerts: raise (idempotent), clear, acknowledge, assign, comment.

Other apps call these exact names (collections: ``promise.broken``, stale ledger data; the portal:
disputes, promises and payments announced by the customer; risk: the monitoring rules).

* :func:`alert_raise` is idempotent: while an alert of the same (kind, company, customer, key) is not
  cleared, it returns that alert and ``False``; otherwise it creates one, writes an audit row and emits
  the ``alert.created`` webhook (sent after commit), and returns it with ``True``.
* :func:`alert_clear` closes the live alerts of a condition that ended; a later raise creates a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from relance.core import audit, clock, errors, scope
from relance.ledger.models import Customer
from relance.orgs.models import Company, User

from .models import Alert, AlertComment, AlertStatus, Severity

HANDLE = "handle_alert"

# Messages (rule 10)
NO_TITLE = "An alert needs a title."
NO_KIND = "An alert needs a kind (such as 'risk.class_downgrade')."
CUSTOMER_OTHER_COMPANY = "Customer {customer} belongs to company {other}, not {company}."
UNKNOWN_SEVERITY = "Unknown severity {value!r}; severities are: {choices}."
ALREADY_CLOSED = "This alert is closed (its condition ended on {date})."
ASSIGNEE_CANNOT_SEE = "{user} cannot see this alert (it is outside their scope)."
EMPTY_COMMENT = "Write a comment."


def alert_data(alert: Alert) -> dict[str, Any]:
    """An alert as the API and the ``alert.created`` webhook show it."""
    customer = alert.customer
    return {
        "id": alert.pk,
        "company": alert.company.code,
        "customer": {"id": customer.pk, "reference": customer.reference, "name": customer.name} if customer else None,
        "kind": alert.kind,
        "key": alert.key,
        "severity": alert.severity,
        "status": alert.status,
        "title": alert.title,
        "message": alert.message,
        "data": alert.data,
        "raised_on": alert.raised_on.isoformat(),
        "cleared_on": alert.cleared_on.isoformat() if alert.cleared_on else None,
        "assigned_to": alert.assigned_to.email if alert.assigned_to_id else None,
    }


def _live(kind: str, company: Company, customer: Customer | None, key: str):
    return Alert.objects.filter(kind=kind, company=company, customer=customer, key=key, cleared_on__isnull=True)


def alert_raise(
    *,
    kind: str,
    company: Company,
    customer: Customer | None = None,
    key: str = "",
    title: str,
    message: str = "",
    data: dict[str, Any] | None = None,
    as_of: dt.date,
    severity: str = Severity.WARNING,
) -> tuple[Alert, bool]:
    """The live alert of this condition and False, or a new alert and True (audited, ``alert.created`` emitted)."""
    from relance.channels import services as channels
    from relance.channels import webhooks

    if not kind:
        raise errors.ValidationError(NO_KIND, field="kind")
    if not title:
        raise errors.ValidationError(NO_TITLE, field="title")
    if severity not in Severity.values:
        raise errors.ValidationError(
            UNKNOWN_SEVERITY.format(value=severity, choices=", ".join(Severity.values)), field="severity"
        )
    if customer is not None and customer.company_id != company.pk:
        raise errors.ValidationError(
            CUSTOMER_OTHER_COMPANY.format(customer=customer.reference, other=customer.company_id, company=company.code),
            field="customer",
        )
    key = key or ""
    with transaction.atomic():
        existing = _live(kind, company, customer, key).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    company=company,
                    customer=customer,
                    kind=kind,
                    key=key,
                    severity=severity,
                    title=title[:200],
                    message=message,
                    data=data or {},
                    raised_on=as_of,
                    raised_at=clock.now(),
                )
        except IntegrityError:  # raised concurrently by another worker: that one is the alert
            return _live(kind, company, customer, key).get(), False
        audit.record(actor=None, action="alert.raise", obj=alert, changes={"kind": kind, "key": key})
        channels.emit(webhooks.ALERT_CREATED, alert_data(alert), company_id=company.pk)
    return alert, True


def alert_clear(*, kind: str, company: Company, customer: Customer | None = None, key: str = "", as_of: dt.date) -> int:
    """Close the live alert(s) of this condition (it ended on ``as_of``). Returns how many were closed."""
    with transaction.atomic():
        alerts = list(_live(kind, company, customer, key or "").select_for_update())
        for alert in alerts:
            alert.cleared_on = as_of
            alert.status = AlertStatus.CLOSED
            alert.save(update_fields=["cleared_on", "status", "updated_at"])
            audit.record(actor=None, action="alert.clear", obj=alert, changes={"cleared_on": as_of.isoformat()})
    return len(alerts)


def _check(actor: Any, alert: Alert) -> None:
    if isinstance(actor, User):
        scope.require(actor, HANDLE, alert)


def alert_acknowledge(*, actor: Any, alert: Alert) -> Alert:
    """Mark an open alert as seen and being handled."""
    _check(actor, alert)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.cleared_on is not None:
            raise errors.ValidationError(ALREADY_CLOSED.format(date=alert.cleared_on.isoformat()))
        if alert.status == AlertStatus.ACKNOWLEDGED:
            return alert
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by = actor if isinstance(actor, User) else None
        alert.acknowledged_at = clock.now()
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
        audit.record(actor=actor, action="alert.acknowledge", obj=alert, changes={"status": ["open", "acknowledged"]})
    return alert


def alert_assign(*, actor: Any, alert: Alert, user: User | None) -> Alert:
    """Give the alert to ``user`` (who must be able to see it), or to nobody."""
    _check(actor, alert)
    if user is not None and not scope.restrict(user, Alert.objects.filter(pk=alert.pk)).exists():
        raise errors.ValidationError(ASSIGNEE_CANNOT_SEE.format(user=user.email), field="assigned_to")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        before = alert.assigned_to.email if alert.assigned_to_id else None
        alert.assigned_to = user
        alert.save(update_fields=["assigned_to", "updated_at"])
        audit.record(
            actor=actor,
            action="alert.assign",
            obj=alert,
            changes={"assigned_to": [before, user.email if user else None]},
        )
    return alert


def alert_comment(*, actor: Any, alert: Alert, text: str) -> AlertComment:
    """Add a comment to the alert's thread."""
    _check(actor, alert)
    text = (text or "").strip()
    if not text:
        raise errors.ValidationError(EMPTY_COMMENT, field="text")
    with transaction.atomic():
        comment = AlertComment.objects.create(
            alert=alert,
            author=actor if isinstance(actor, User) else None,
            author_label=audit.actor_label(actor),
            text=text,
        )
        audit.record(
            actor=actor,
            action="alert.comment",
            obj=alert,
            changes={"comment": comment.pk},
            message=text[:300],
        )
    return comment
