"""Customer replies: reading an e-mail (``relance mail ingest FILE.eml`` or the IMAP poller), threading it to the
reminder and the customer, classifying it, pausing dunning for that customer until a collector handles it.

Threading, in order: a Message-ID of one of our reminders in ``In-Reply-To``/``References``; a reminder
reference (``[R…]``) in the subject or in the ``+tag`` of the address it was sent to; the sender's address
among the customers' contacts. Delivery failures (DSN) mark the failed address bad and send the reminder as a
letter instead. An out-of-office reply is recorded but does not pause anything. Ingesting the same message
twice (same Message-ID) changes nothing.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

from relance.core import audit, clock, errors
from relance.ledger.models import Contact, Customer
from relance.orgs.models import User

from . import activity as kinds
from . import classify, services
from .models import ActionStatus, BadAddress, DunningAction, Reply, ReplyClass, Task, TaskKind

REFERENCE = re.compile(r"\b(R[0-9A-F]{12})\b")
NOT_AN_EMAIL = "{source}: not an e-mail message (no From header)."


@dataclass(frozen=True)
class Parsed:
    message_id: str
    in_reply_to: str
    references: list[str]
    sender: str
    to: list[str]
    subject: str
    body: str
    received_at: Any
    auto_submitted: bool
    report: bool
    failed_recipients: list[str]
    original_id: str


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeDecodeError):
        text = part.get_payload(decode=True).decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text


def parse(raw: bytes, *, source: str = "message") -> Parsed:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not msg.get("From"):
        raise errors.ValidationError(NOT_AN_EMAIL.format(source=source), field="file")
    report = msg.get_content_type() == "multipart/report"
    failed: list[str] = []
    original_id = ""
    if report:
        for part in msg.walk():
            if part.get_content_type() == "message/delivery-status":
                payload = part.as_string()
                failed += [
                    m.group(1).strip() for m in re.finditer(r"Final-Recipient:\s*rfc822;\s*(\S+)", payload, re.I)
                ]
            if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
                found = re.search(r"^Message-ID:\s*(<[^>]+>)", part.as_string(), re.I | re.M)
                if found:
                    original_id = found.group(1)
    date = msg.get("Date")
    try:
        received = parsedate_to_datetime(str(date)) if date else clock.now()
    except (TypeError, ValueError):
        received = clock.now()
    if received.tzinfo is None:
        received = received.replace(tzinfo=clock.now().tzinfo)
    refs = str(msg.get("References", "")).split()
    return Parsed(
        message_id=str(msg.get("Message-ID", "")).strip() or f"<no-id-{hash(raw) & 0xFFFFFFFF:x}@relance>",
        in_reply_to=str(msg.get("In-Reply-To", "")).strip(),
        references=refs,
        sender=parseaddr(str(msg.get("From")))[1].lower(),
        to=[a.lower() for _, a in getaddresses([str(msg.get("To", "")), str(msg.get("Delivered-To", ""))]) if a],
        subject=str(msg.get("Subject", ""))[:500],
        body=_text(msg),
        received_at=received,
        auto_submitted=str(msg.get("Auto-Submitted", "no")).lower() not in ("", "no"),
        report=report,
        failed_recipients=[f.lower() for f in failed],
        original_id=original_id,
    )


def thread(p: Parsed) -> tuple[DunningAction | None, Customer | None]:
    ids = [i for i in [p.in_reply_to, *p.references, p.original_id] if i]
    action = DunningAction.objects.filter(message_id__in=ids).select_related("customer").first() if ids else None
    if action is None:
        refs = REFERENCE.findall(p.subject) + [m for a in p.to for m in REFERENCE.findall(a.upper())]
        if refs:
            action = DunningAction.objects.filter(reference__in=refs).select_related("customer").first()
    if action is not None:
        return action, action.customer
    contact = Contact.objects.filter(email__iexact=p.sender).select_related("customer").first()
    return None, contact.customer if contact else None


@transaction.atomic
def ingest(*, raw: bytes, source: str = "message", actor: Any = "mail") -> tuple[Reply, bool]:
    """Record one received e-mail. Returns (reply, created); the same Message-ID again returns the first one."""
    p = parse(raw, source=source)
    existing = Reply.objects.filter(message_id=p.message_id[:300]).first()
    if existing is not None:
        return existing, False
    action, customer = thread(p)
    verdict = classify.classify(p.subject, p.body, auto_submitted=p.auto_submitted, report=p.report)
    auto_handled = verdict.classification in (ReplyClass.OUT_OF_OFFICE, ReplyClass.BOUNCE)
    reply = Reply.objects.create(
        company_id=customer.company_id if customer else (action.company_id if action else None),
        customer=customer,
        action=action,
        message_id=p.message_id[:300],
        in_reply_to=p.in_reply_to[:300],
        sender=p.sender[:300],
        subject=p.subject,
        body=p.body[:20000],
        received_at=p.received_at,
        classification=verdict.classification,
        rule=verdict.rule[:200],
        handled_at=clock.now() if auto_handled else None,
    )
    audit.record(
        actor=actor,
        action="reply.receive",
        obj=reply,
        changes={"classification": reply.classification, "rule": reply.rule, "source": source},
    )
    if customer is not None:
        services.activity_record(
            customer=customer,
            kind=kinds.REPLY_RECEIVED,
            actor=actor,
            text=p.subject,
            data={
                "reply": reply.pk,
                "message_id": reply.message_id,
                "classification": reply.classification,
                "rule": reply.rule,
                "reference": action.reference if action else None,
            },
            at=p.received_at,
        )
        if not auto_handled:
            Task.objects.create(
                company_id=customer.company_id,
                customer=customer,
                kind=TaskKind.REPLY,
                title=f"Reply: {p.subject}"[:300],
                due_on=clock.today(),
                assignee_id=customer.collector_id,
                data={"reply": reply.pk},
            )
    if verdict.classification == ReplyClass.BOUNCE and action is not None:
        _bounce(action, p.failed_recipients or [action.recipient])
    return reply, True


def _bounce(action: DunningAction, addresses: list[str]) -> None:
    from . import outbox

    for address in [a for a in addresses if a]:
        BadAddress.objects.get_or_create(email=address.lower(), defaults={"reason": "bounced", "since": clock.now()})
    if action.channel == "email" and action.status in (ActionStatus.SENT, ActionStatus.UNCONFIRMED):
        DunningAction.objects.filter(pk=action.pk).update(status=ActionStatus.FAILED, error="bounced (DSN)")
        services.activity_record(
            customer=action.customer,
            kind=kinds.EMAIL_BOUNCED,
            actor=audit.SYSTEM,
            data={"address": addresses[0], "message_id": action.message_id, "reference": action.reference},
        )
        action.refresh_from_db()
        outbox._letter_instead(action, clock.today(), "bounced")


@transaction.atomic
def reply_classify(*, actor: Any, reply: Reply, classification: str) -> Reply:
    """A collector corrects the classification (kept with who did it)."""
    if classification not in ReplyClass.values:
        raise errors.ValidationError(f"{classification!r} is not a classification.", field="classification")
    if reply.customer is not None:
        services._check(actor, reply.customer)
    before = reply.classification
    reply.classification = classification
    reply.rule = f"corrected by {audit.actor_label(actor)}"[:200]
    reply.corrected_by = actor if isinstance(actor, User) else None
    reply.save(update_fields=["classification", "rule", "corrected_by"])
    audit.record(actor=actor, action="reply.classify", obj=reply, changes={"classification": [before, classification]})
    return reply


@transaction.atomic
def reply_handle(*, actor: Any, reply: Reply) -> Reply:
    """The reply was dealt with: dunning may resume for the customer (if no other reply waits)."""
    if reply.customer is not None:
        services._check(actor, reply.customer)
    if reply.handled_at is not None:
        return reply
    reply.handled_at = clock.now()
    reply.handled_by = actor if isinstance(actor, User) else None
    reply.save(update_fields=["handled_at", "handled_by"])
    Task.objects.filter(kind=TaskKind.REPLY, status="open", data__reply=reply.pk).update(
        status="done", done_on=clock.today()
    )
    audit.record(actor=actor, action="reply.handle", obj=reply)
    if reply.customer is not None:
        services.activity_record(
            customer=reply.customer,
            kind=kinds.REPLY_HANDLED,
            actor=actor,
            data={"reply": reply.pk, "classification": reply.classification},
        )
    return reply


# --- the IMAP poller ------------------------------------------------------------------------------


class Mailbox(Protocol):
    def unseen(self) -> list[tuple[str, bytes]]:
        """(uid, raw message) of the messages not read yet."""

    def mark_seen(self, uid: str) -> None: ...


class ImapMailbox:
    """The collections mailbox over IMAP (``RELANCE_IMAP_*`` settings), INBOX."""

    def __init__(self) -> None:
        cls = imaplib.IMAP4_SSL if settings.RELANCE_IMAP_SSL else imaplib.IMAP4
        self.conn = cls(settings.RELANCE_IMAP_HOST, settings.RELANCE_IMAP_PORT)
        self.conn.login(settings.RELANCE_IMAP_USER, settings.RELANCE_IMAP_PASSWORD)
        self.conn.select("INBOX")

    def unseen(self) -> list[tuple[str, bytes]]:
        _, data = self.conn.uid("search", None, "UNSEEN")
        out = []
        for uid in (data[0] or b"").split():
            _, parts = self.conn.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), b"")
            out.append((uid.decode(), raw))
        return out

    def mark_seen(self, uid: str) -> None:
        self.conn.uid("store", uid, "+FLAGS", "(\\Seen)")

    def close(self) -> None:
        try:
            self.conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def poll(mailbox: Mailbox) -> dict[str, int]:
    """Ingest every unread message, then mark it read (a crash before that re-reads it: ingest is idempotent)."""
    created = seen = 0
    for uid, raw in mailbox.unseen():
        try:
            _, made = ingest(raw=raw, source=f"imap:{uid}")
        except errors.ValidationError:
            made = False
        created += made
        seen += 1
        mailbox.mark_seen(uid)
    return {"read": seen, "new": created}
