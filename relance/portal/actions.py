"""What the customer does from the portal besides paying: promise, dispute (with an attachment), update its
accounts-payable contact; and the visit itself. Each lands in the activity log and raises an alert for the
collector; promises and disputes pause dunning through the collections records they create."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from relance.collections import activity as kinds
from relance.collections import services as collections
from relance.collections.models import Dispute, DisputeReason, Promise
from relance.core import clock, errors
from relance.core.money import Money, to_decimal
from relance.ledger import services as ledger
from relance.ledger.models import Contact

from . import domain
from .alerting import CONTACT_ALERT, DISPUTE_ALERT, PROMISE_ALERT, alert
from .messages import (
    AMOUNT_TOO_HIGH,
    BAD_AMOUNT,
    BAD_DATE,
    BAD_EMAIL,
    DATE_IN_PAST,
    DATE_TOO_FAR,
    EMPTY_CONTACT,
    FILE_TOO_BIG,
    FILE_TYPE,
    NO_REASON,
    NOT_PAYABLE,
    NOTHING_SELECTED,
    PROMISE_ONE_CURRENCY,
    PortalError,
)
from .models import DisputeAttachment, PortalLink
from .payments import actor_of, open_invoices

PROMISE_HORIZON_DAYS = 180


def _day(value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise PortalError(BAD_DATE, field="date")


def _today(link: PortalLink) -> dt.date:
    return clock.today(link.customer.company.timezone)


def _documents(link: PortalLink, ids: list[Any]) -> list[Any]:
    try:
        wanted = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise PortalError(NOT_PAYABLE, field="documents")
    if not wanted:
        raise PortalError(NOTHING_SELECTED, field="documents")
    docs = list(open_invoices(link).filter(pk__in=wanted))
    if len(docs) != len(wanted):
        raise PortalError(NOT_PAYABLE, field="documents")
    return docs


def visit(link: PortalLink) -> None:
    """A visit lands in the activity log once per link and day."""
    today = _today(link)
    last = link.last_used_at
    if last is not None and last.astimezone(dt.UTC).date() == clock.now().astimezone(dt.UTC).date():
        return
    collections.activity_record(
        customer=link.customer, kind=kinds.PORTAL_VISIT, actor=actor_of(link), data={"link": link.prefix,
                                                                                     "day": today}
    )  # fmt: skip


@transaction.atomic
def promise_make(*, link: PortalLink, document_ids: list[Any], amount: str, promised_for: str) -> Promise:
    docs = _documents(link, document_ids)
    currencies = {d.currency for d in docs}
    if len(currencies) > 1:
        raise PortalError(PROMISE_ONE_CURRENCY, field="documents")
    currency = currencies.pop()
    try:
        value = to_decimal(str(amount).replace(",", ".").replace(" ", "").replace("\u202f", ""))
    except (errors.RelanceError, InvalidOperation):
        raise PortalError(BAD_AMOUNT, field="amount")
    open_total = sum((d.open_amount for d in docs), Decimal(0))
    if value > open_total:
        raise PortalError(AMOUNT_TOO_HIGH, open=Money(open_total, currency), field="amount")
    day = _day(promised_for)
    today = _today(link)
    if day < today:
        raise PortalError(DATE_IN_PAST, today=today, field="date")
    if day > today + dt.timedelta(days=PROMISE_HORIZON_DAYS):
        raise PortalError(DATE_TOO_FAR, days=PROMISE_HORIZON_DAYS, field="date")
    promise = collections.promise_create(
        actor=actor_of(link),
        customer=link.customer,
        documents=docs,
        amount=Money(value, currency),
        promised_for=day,
        source="portal",
        as_of=today,
    )
    numbers = [d.number for d in docs]
    alert(
        kind=PROMISE_ALERT,
        customer=link.customer,
        key=f"promise:{promise.pk}",
        title=f"{link.customer.name} promises {Money(value, currency)} by {day.isoformat()} (portal)",
        message=f"Invoices: {', '.join(numbers)}.",
        data={"promise": promise.pk, "documents": numbers, "promised_for": day.isoformat()},
        as_of=today,
    )
    return promise


def max_upload_bytes() -> int:
    return int(getattr(settings, "RELANCE_PORTAL_UPLOAD_MAX_BYTES", 5 * 1024 * 1024))


def check_upload(upload: Any) -> tuple[bytes, str]:
    """The bytes and the detected type of an uploaded file; refuses other types and files over the limit."""
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise PortalError(FILE_TOO_BIG, limit=limit // (1024 * 1024), field="attachment")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PortalError(FILE_TOO_BIG, limit=limit // (1024 * 1024), field="attachment")
    mime = domain.sniff_upload(data[:16])
    if mime is None:
        raise PortalError(FILE_TYPE, field="attachment")
    return data, mime


@transaction.atomic
def dispute_make(
    *, link: PortalLink, document_ids: list[Any], reason: str, message: str, upload: Any = None
) -> Dispute:
    docs = _documents(link, document_ids)
    if reason not in DisputeReason.values:
        raise PortalError(NO_REASON, field="reason")
    checked = check_upload(upload) if upload else None
    today = _today(link)
    dispute = collections.dispute_open(
        actor=actor_of(link),
        customer=link.customer,
        documents=docs,
        reason=reason,
        message=str(message or "")[:5000],
        source="portal",
        as_of=today,
    )
    if checked is not None:
        data, mime = checked
        name = f"dispute-{dispute.pk}-{hashlib.sha256(data).hexdigest()[:12]}.{domain.UPLOAD_EXTENSIONS[mime]}"
        attachment = DisputeAttachment(
            company_id=link.company_id,
            customer_id=link.customer_id,
            dispute=dispute,
            original_name=str(getattr(upload, "name", "") or "")[:200],
            content_type=mime,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        attachment.file.save(name, ContentFile(data), save=False)
        attachment.save()
    numbers = [d.number for d in docs]
    alert(
        kind=DISPUTE_ALERT,
        customer=link.customer,
        key=f"dispute:{dispute.pk}",
        title=f"{link.customer.name} disputes {', '.join(numbers)} (portal): {DisputeReason(reason).label}",
        message=str(message or "")[:2000],
        data={"dispute": dispute.pk, "documents": numbers, "reason": reason, "attachment": checked is not None},
        as_of=today,
    )
    return dispute


@transaction.atomic
def contact_update(*, link: PortalLink, name: str, email: str, phone: str) -> Contact:
    """The customer corrects its accounts-payable contact (it becomes the main one)."""
    name, email, phone = name.strip()[:200], email.strip()[:254], phone.strip()[:40]
    if not (name or email or phone):
        raise PortalError(EMPTY_CONTACT, field="name")
    if email and ("@" not in email or " " in email):
        raise PortalError(BAD_EMAIL, value=email, field="email")
    current = link.contact
    before = {"name": current.name, "email": current.email, "phone": current.phone} if current else {}
    if current is not None and (not email or email.lower() == current.email.lower()):
        contact = ledger.contact_upsert(
            actor=actor_of(link), customer=link.customer, email=current.email, name=name or current.name,
            phone=phone or current.phone, is_main_ap=True, language=current.language,
        )  # fmt: skip
    else:
        contact = ledger.contact_upsert(
            actor=actor_of(link), customer=link.customer, email=email, name=name, phone=phone, is_main_ap=True,
            language=current.language if current else "",
        )  # fmt: skip
    after = {"name": contact.name, "email": contact.email, "phone": contact.phone}
    collections.activity_record(
        customer=link.customer,
        kind=kinds.CONTACT_UPDATED,
        actor=actor_of(link),
        text=", ".join(v for v in after.values() if v),
        data={"contact": contact.pk, "before": before, "after": after, "source": "portal"},
    )
    alert(
        kind=CONTACT_ALERT,
        customer=link.customer,
        key=f"contact:{contact.pk}:{clock.now():%Y%m%d%H%M%S}",
        title=f"{link.customer.name} updated its accounts-payable contact (portal)",
        message=", ".join(v for v in after.values() if v),
        data={"contact": contact.pk, "before": before, "after": after},
        as_of=_today(link),
    )
    return contact
