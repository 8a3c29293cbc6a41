"""Executing the dunning intents: e-mail, SMS, letters — each at most once.

For an e-mail or an SMS the action is first *claimed* (``pending`` → ``sending``, committed), then handed to
the transport, then its outcome recorded (``sent`` with the message id, or ``failed``). A claimed action whose
outcome was never recorded — the process died between sending and recording — is never sent again: after
:data:`LEASE` it is marked ``unconfirmed`` and a task asks a person to check. A server that could not be
reached (or that answered no) accepted nothing: the action goes back to ``pending`` for the next run;
a connection cut during the SMTP transaction may have delivered it, so it is ``unconfirmed`` too. A refused
recipient marks the address bad and a letter is produced instead. Letters are rendered to PDF and queued for printing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from relance.channels import mail, pdf, sms
from relance.core import audit, clock
from relance.core.money import quantize
from relance.ledger.models import Customer, Document

from . import activity as kinds
from . import letters, services
from .models import ActionStatus, BadAddress, DunningAction, Task, TaskKind

LEASE = dt.timedelta(minutes=15)
ATTACHMENTS_MAX = 20
SUBJECTS = {
    "courtesy": "Upcoming due date",
    "reminder": "Payment reminder",
}


def _subject(action: DunningAction, company_name: str) -> str:
    from django.utils.translation import gettext

    label = {
        "courtesy": gettext("Upcoming due date"),
        "reminder": gettext("Payment reminder"),
    }.get(action.template, gettext("Payment reminder"))
    return f"[{action.reference}] {company_name}: {label}"


INTERRUPTED = "Interrupted between sending and recording: not resent. Check whether it went out."
CUT_DURING_SENDING = "The connection to the mail server broke while sending: not resent. Check whether it went out."


def _unconfirmed(action: DunningAction, error: str) -> None:
    """Never resent, flagged for a person: the action is ``unconfirmed`` with a check task."""
    with transaction.atomic():
        action.status = ActionStatus.UNCONFIRMED
        action.error = error
        action.save(update_fields=["status", "error"])
        Task.objects.create(
            company_id=action.company_id,
            customer_id=action.customer_id,
            kind=TaskKind.CHECK,
            title=f"Check whether reminder {action.reference} was sent",
            due_on=clock.today(),
            assignee_id=action.customer.collector_id,
            action=action,
        )


def _recover(now: dt.datetime) -> list[tuple[int, str, str]]:
    """Claims older than the lease whose outcome was never recorded: never resent, flagged for a person."""
    out = []
    stale = DunningAction.objects.filter(status=ActionStatus.SENDING, attempted_at__lt=now - LEASE)
    for action in stale.select_related("customer"):
        _unconfirmed(action, INTERRUPTED)
        out.append((action.pk, ActionStatus.UNCONFIRMED, "interrupted"))
    return out


def _claim(action: DunningAction) -> bool:
    """pending → sending, committed before anything leaves; False if someone else claimed it."""
    with transaction.atomic():
        return bool(
            DunningAction.objects.filter(pk=action.pk, status=ActionStatus.PENDING).update(
                status=ActionStatus.SENDING, attempted_at=clock.now()
            )
        )


def _documents(action: DunningAction) -> list[Document]:
    docs = {d.pk: d for d in Document.objects.filter(pk__in=action.document_ids).select_related("company", "customer")}
    return [docs[i] for i in action.document_ids if i in docs]


def context_for(action: DunningAction, customer: Customer, as_of: dt.date) -> dict[str, Any]:
    docs = _documents(action)
    lines = [
        {
            "number": d.number,
            "issue_date": d.issue_date,
            "due_date": d.due_date,
            "amount": d.amount,
            "open_amount": d.open_amount,
            "days_late": max((as_of - d.due_date).days, 0),
        }
        for d in docs
    ]
    return {
        "action": action,
        "company": customer.company,
        "customer": customer,
        "lines": lines,
        "total": sum((d.open_amount for d in docs), Decimal(0)),
        "currency": action.currency,
        "tone": action.tone,
        "step": action.step,
        "as_of": as_of,
        "collector": customer.collector,
        "documents": docs,
    }


def _portal_link(customer: Customer, contact: Any) -> str:
    try:
        from relance.portal.services import portal_link
    except ImportError:  # pragma: no cover - the portal app is part of Relance
        return ""
    return portal_link(customer=customer, contact=contact)


def _recipient(customer: Customer) -> Any:
    bad = set(BadAddress.objects.values_list("email", flat=True))
    contacts = [c for c in customer.contacts.all() if c.email and c.email.lower() not in bad]
    return next((c for c in contacts if c.is_main_ap), contacts[0] if contacts else None)


def _mailbox(company_id: int) -> str:
    from .rules import settings_for

    return (
        settings_for(company_id).mailbox
        or getattr(settings, "RELANCE_COLLECTIONS_MAILBOX", "")
        or (settings.DEFAULT_FROM_EMAIL)
    )


def _fallback_letter(action: DunningAction, reason: str) -> DunningAction:
    key = f"{action.key}:letter"
    from .cycle import reference_for

    letter, _ = DunningAction.objects.get_or_create(
        key=key,
        defaults={
            **{
                f: getattr(action, f)
                for f in (
                    "company_id",
                    "customer_id",
                    "currency",
                    "run_date",
                    "scenario",
                    "rulebook_version",
                    "step",
                    "step_day",
                    "tone",
                    "template",
                    "document_ids",
                    "numbers",
                    "amount",
                )
            },
            "reference": reference_for(key),
            "channel": "letter",
            "fallback_of": action,
            "error": reason,
        },
    )
    return letter


def send_email(action: DunningAction, as_of: dt.date, mailer: mail.Mailer) -> tuple[str, str]:
    customer = (
        Customer.objects.select_related("company", "collector").prefetch_related("contacts").get(pk=action.customer_id)
    )
    contact = _recipient(customer)
    if contact is None:
        action.status, action.error = ActionStatus.FAILED, "no usable e-mail address"
        action.save(update_fields=["status", "error"])
        return _letter_instead(action, as_of, "no_address")
    if not _claim(action):
        return action.status, "claimed elsewhere"
    language = (
        (contact.language or customer.language or "fr")
        if (contact.language or customer.language) in ("fr", "en")
        else "fr"
    )
    ctx = context_for(action, customer, as_of)
    ctx["contact"] = contact
    ctx["portal_url"] = _portal_link(customer, contact)
    attachments = []
    for doc in ctx["documents"][:ATTACHMENTS_MAX]:
        name, data = pdf.document_pdf(doc)
        attachments.append((name, data, "application/pdf"))
    from django.utils import translation

    with translation.override(language):
        subject = _subject(action, customer.company.name)
    out = mail.Outgoing(
        to=[contact.email],
        cc=[customer.collector.email] if customer.collector and customer.collector.email else [],
        subject=subject,
        template=action.template or "reminder",
        context=ctx,
        language=language,
        reference=action.reference,
        reply_to=mail.tagged(_mailbox(action.company_id), action.reference),
        attachments=attachments,
    )
    message = mail.compose(out)
    message_id = message.extra_headers["Message-ID"]
    try:
        mailer.send(message)
    except mail.Unreachable as exc:
        DunningAction.objects.filter(pk=action.pk).update(status=ActionStatus.PENDING, error=str(exc)[:500])
        return ActionStatus.PENDING, "mail server unreachable"
    except mail.Uncertain as exc:
        action.message_id = message_id
        DunningAction.objects.filter(pk=action.pk).update(message_id=message_id)
        _unconfirmed(action, f"{CUT_DURING_SENDING} ({exc})"[:500])
        # the run's JSON knows sent/queued/task_created/skipped/failed: this one failed, and is not retried
        return ActionStatus.FAILED, "connection cut while sending: not resent, check whether it went out"
    except mail.Refused as exc:
        with transaction.atomic():
            for address in exc.addresses or [contact.email]:
                BadAddress.objects.get_or_create(
                    email=address.lower(), defaults={"reason": str(exc)[:500], "since": clock.now()}
                )
            DunningAction.objects.filter(pk=action.pk).update(
                status=ActionStatus.FAILED,
                error=f"refused: {exc}"[:500],
                recipient=contact.email,
                message_id=message_id,
                done_at=clock.now(),
            )
            services.activity_record(
                customer=customer,
                kind=kinds.EMAIL_BOUNCED,
                actor=audit.SYSTEM,
                data={"address": contact.email, "message_id": message_id, "reference": action.reference},
                at=services.moment(as_of),
            )
        action.refresh_from_db()
        return _letter_instead(action, as_of, "bounced")
    with transaction.atomic():
        DunningAction.objects.filter(pk=action.pk).update(
            status=ActionStatus.SENT, recipient=contact.email, message_id=message_id, done_at=clock.now(), error=""
        )
        services.activity_record(
            customer=customer,
            kind=kinds.REMINDER_SENT,
            actor=audit.SYSTEM,
            text=subject,
            data={
                "reference": action.reference,
                "message_id": message_id,
                "step": action.step,
                "documents": action.numbers,
                "to": contact.email,
                "cc": out.cc,
            },
            at=services.moment(as_of),
        )
    return ActionStatus.SENT, ""


def _letter_instead(action: DunningAction, as_of: dt.date, reason: str) -> tuple[str, str]:
    letter = _fallback_letter(action, reason)
    if letter.status == ActionStatus.PENDING:
        produce_letter(letter, as_of)
    return ActionStatus.FAILED, f"{reason}: letter {letter.reference} queued"


def produce_letter(action: DunningAction, as_of: dt.date) -> tuple[str, str]:
    """Render the letter (or formal notice) to PDF and queue it for printing, recording any claims made."""
    customer = Customer.objects.select_related("company", "collector").get(pk=action.customer_id)
    with transaction.atomic():
        locked = DunningAction.objects.select_for_update().get(pk=action.pk)
        if locked.status != ActionStatus.PENDING:
            return locked.status, ""
        ctx = context_for(locked, customer, as_of)
        ctx["portal_url"] = _portal_link(customer, None)
        template = "channels/pdf/letter.html"
        if locked.channel == "formal_notice":
            ctx.update(letters.claims_for(locked, customer, ctx["documents"], as_of))
            template = "channels/pdf/formal_notice.html"
        language = customer.language if customer.language in ("fr", "en") else "fr"
        data = pdf.render_pdf(template, ctx, language=language)
        locked.file.save(f"{locked.reference}.pdf", ContentFile(data), save=False)
        locked.status, locked.done_at = ActionStatus.QUEUED, clock.now()
        locked.save(update_fields=["file", "status", "done_at"])
        services.activity_record(
            customer=customer,
            kind=kinds.LETTER_SENT,
            actor=audit.SYSTEM,
            data={
                "reference": locked.reference,
                "step": locked.step,
                "channel": locked.channel,
                "documents": locked.numbers,
                "file": locked.file.name,
            },
            at=services.moment(as_of),
        )
    return ActionStatus.QUEUED, ""


def send_sms(action: DunningAction, as_of: dt.date) -> tuple[str, str]:
    gw = sms.gateway()
    customer = Customer.objects.select_related("company").prefetch_related("contacts").get(pk=action.customer_id)
    phone = next((c.phone for c in customer.contacts.all() if c.phone), "")
    if gw is None or not phone:
        DunningAction.objects.filter(pk=action.pk).update(status=ActionStatus.FAILED, error="no SMS gateway or phone")
        return _letter_instead(action, as_of, "no_address")
    if not _claim(action):
        return action.status, "claimed elsewhere"
    text = (
        f"{customer.company.name}: {len(action.numbers)} invoice(s), {quantize(action.amount, action.currency)} "
        f"{action.currency} "
        f"overdue. Ref {action.reference}"
    )
    provider_id = gw.send(to=phone, text=text, reference=action.reference)
    with transaction.atomic():
        DunningAction.objects.filter(pk=action.pk).update(
            status=ActionStatus.SENT, recipient=phone, message_id=provider_id, done_at=clock.now()
        )
        services.activity_record(
            customer=customer,
            kind=kinds.SMS_SENT,
            actor=audit.SYSTEM,
            data={"reference": action.reference, "documents": action.numbers},
            at=services.moment(as_of),
        )
    return ActionStatus.SENT, ""


def execute(*, as_of: dt.date, sender: mail.Mailer | None = None) -> Iterator[tuple[int, str, str]]:
    """Carry out every pending intent; yields (action id, final status, reason)."""
    mailer = sender or mail.DjangoMailer()
    yield from _recover(clock.now())
    for action in DunningAction.objects.filter(status=ActionStatus.PENDING).order_by("pk").iterator(chunk_size=500):
        if action.channel == "email":
            status, reason = send_email(action, as_of, mailer)
        elif action.channel == "sms":
            status, reason = send_sms(action, as_of)
        elif action.channel in ("letter", "formal_notice"):
            status, reason = produce_letter(action, as_of)
        else:  # a task channel recorded as pending by an older version: nothing to send
            continue
        yield action.pk, status, reason
