"""The vocabulary of a customer's collection history (``Activity.kind``).

Kinds are a public vocabulary (pages, API, exports branch on them): add kinds, never rename one.
Another app declares its own with :func:`register`.
"""

from __future__ import annotations

REMINDER_SENT = "reminder_sent"
LETTER_SENT = "letter_sent"
SMS_SENT = "sms_sent"
TASK_CREATED = "task_created"
HANDOVER = "handover"
EMAIL_BOUNCED = "email_bounced"
CALL = "call"
NOTE = "note"
REPLY_RECEIVED = "reply_received"
REPLY_HANDLED = "reply_handled"
PROMISE_MADE = "promise_made"
PROMISE_KEPT = "promise_kept"
PROMISE_BROKEN = "promise_broken"
PROMISE_CANCELLED = "promise_cancelled"
DISPUTE_OPENED = "dispute_opened"
DISPUTE_RESOLVED = "dispute_resolved"
PORTAL_VISIT = "portal_visit"
PORTAL_PAYMENT = "portal_payment"
CONTACT_UPDATED = "contact_updated"
WRITE_OFF = "write_off"
WRITE_OFF_REVERSED = "write_off_reversed"
PROVISION = "provision"

KINDS: dict[str, str] = {
    REMINDER_SENT: "A reminder e-mail was sent (data: step, documents, message_id, reference).",
    LETTER_SENT: "A letter or formal notice was produced (data: step, documents, reference).",
    SMS_SENT: "A text message was sent (data: step, documents).",
    TASK_CREATED: "A task was put in a collector's worklist (data: task id, step).",
    HANDOVER: "The account was handed over to litigation or an agency (data: step, documents).",
    EMAIL_BOUNCED: "A reminder bounced; the address is marked bad (data: address, message_id).",
    CALL: "A phone call was logged (data: outcome, next action).",
    NOTE: "A free note.",
    REPLY_RECEIVED: "The customer answered a reminder (data: message_id, classification).",
    REPLY_HANDLED: "A collector handled a customer's reply.",
    PROMISE_MADE: "A promise to pay was recorded (data: promise id, amount, date).",
    PROMISE_KEPT: "A promise to pay was kept (data: promise id).",
    PROMISE_BROKEN: "A promise to pay was not kept by its date (data: promise id).",
    PROMISE_CANCELLED: "A promise to pay was cancelled (data: promise id).",
    DISPUTE_OPENED: "Documents were disputed (data: dispute id, documents, reason).",
    DISPUTE_RESOLVED: "A dispute was resolved (data: dispute id, status).",
    PORTAL_VISIT: "The customer visited the portal.",
    PORTAL_PAYMENT: "The customer paid through the portal.",
    CONTACT_UPDATED: "A contact's details changed.",
    WRITE_OFF: "A balance was written off (data: document, amount).",
    WRITE_OFF_REVERSED: "A write-off was reversed.",
    PROVISION: "A provision for doubtful debts was booked or released.",
}


def register(kind: str, description: str) -> None:
    """A later app declares a kind of activity (snake_case, ``<object>_<past participle>``)."""
    KINDS.setdefault(kind, description)
