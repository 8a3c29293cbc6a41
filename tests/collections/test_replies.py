"""Customer replies: classification rules (pure), threading, pausing dunning, bounces, the poller, the command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from relance.collections import classify, cycle, replies
from relance.collections.models import ActionStatus, BadAddress, DunningAction, Reply, Task

from .test_cycle import DAY, acme_actions, book  # noqa: F401 - the ACME fixture


@pytest.mark.parametrize(
    "subject, body, expected",
    [
        ("Réponse automatique : absent", "Je suis absente jusqu'au 3 juillet.", "out_of_office"),
        ("Re: [R1] Relance", "Bonjour, la facture a déjà été réglée le 12 juin.", "already_paid"),
        ("Re: reminder", "We already paid this invoice, see the remittance advice.", "already_paid"),
        ("Re: relance", "Nous contestons cette facture : marchandise endommagée.", "dispute"),
        ("Re: reminder", "Goods were never received.", "dispute"),
        ("Re: relance", "Nous réglerons par virement la semaine prochaine.", "promise"),
        ("Re: reminder", "We will pay by the end of the month.", "promise"),
        ("Re: relance", "Merci de nous renvoyer le RIB.", "other"),
    ],
)
def test_rules_classify_replies_and_say_why(subject, body, expected):
    verdict = classify.classify(subject, body)
    assert verdict.classification == expected
    assert verdict.rule.startswith("keyword") or expected == "other"


def test_auto_submitted_is_out_of_office_and_a_report_is_a_bounce():
    assert classify.classify("x", "will pay", auto_submitted=True).classification == "out_of_office"
    assert classify.classify("x", "", report=True).classification == "bounce"


def eml(message_id: str, subject: str, body: str, *, sender: str = "ap@acme-client.example", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: collections@acme.example\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
        f"Date: Tue, 30 Jun 2026 10:00:00 +0200\r\nContent-Type: text/plain; charset=utf-8\r\n{extra}\r\n{body}\r\n"
    ).encode()


def test_a_reply_is_threaded_to_the_reminder_pauses_dunning_until_handled(book, smtp):  # noqa: F811
    cust, _ = book
    cycle.cycle_run(as_of=DAY)
    reminder = DunningAction.objects.get(customer=cust, channel="email")
    raw = eml(
        "<reply-1@client>",
        f"Re: [{reminder.reference}] Relance",
        "Déjà réglé hier.",
        extra=f"In-Reply-To: {reminder.message_id}\r\n",
    )
    reply, created = replies.ingest(raw=raw)
    assert created and reply.action == reminder and reply.customer == cust
    assert (reply.classification, reply.rule) == ("already_paid", "keyword 'deja regle'")
    assert replies.ingest(raw=raw) == (reply, False)  # the same message again: nothing new
    assert Task.objects.filter(customer=cust, kind="reply", status="open").count() == 1
    # eight days later the second reminder would be due: held while the reply waits
    later = DAY + dt.timedelta(days=8)
    result = cycle.cycle_run(as_of=later)
    assert {(a["status"], a.get("reason")) for a in acme_actions(result)} == {("skipped", "reply_pending")}
    replies.reply_handle(actor="test", reply=reply)
    result = cycle.cycle_run(as_of=later)
    assert {a["status"] for a in acme_actions(result)} == {"sent"}


def test_threading_by_the_reference_in_the_subject_or_the_sender(book, smtp):  # noqa: F811
    cust, _ = book
    cycle.cycle_run(as_of=DAY)
    reminder = DunningAction.objects.get(customer=cust, channel="email")
    by_ref, _ = replies.ingest(raw=eml("<r2@c>", f"TR: {reminder.reference}", "?", sender="boss@elsewhere.example"))
    assert by_ref.action == reminder
    by_sender, _ = replies.ingest(raw=eml("<r3@c>", "Question", "Bonjour"))
    assert by_sender.action is None and by_sender.customer == cust
    stranger, _ = replies.ingest(raw=eml("<r4@c>", "Hello", "?", sender="nobody@nowhere.example"))
    assert stranger.customer is None


def test_out_of_office_does_not_pause(book, smtp):  # noqa: F811
    cust, _ = book
    replies.ingest(raw=eml("<ooo@c>", "Automatic reply: away", "I am away", extra="Auto-Submitted: auto-replied\r\n"))
    assert Reply.objects.get().handled_at is not None
    assert {a["status"] for a in acme_actions(cycle.cycle_run(as_of=DAY))} == {"sent", "task_created"}


def test_a_delivery_failure_marks_the_address_bad_and_sends_a_letter(book, smtp):  # noqa: F811
    cust, _ = book
    cycle.cycle_run(as_of=DAY)
    reminder = DunningAction.objects.get(customer=cust, channel="email")
    dsn = (
        "From: MAILER-DAEMON@mx.example\r\nTo: relance@acme.example\r\nSubject: Undelivered Mail\r\n"
        "Message-ID: <dsn-1@mx>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
        "Final-Recipient: rfc822; ap@acme-client.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {reminder.message_id}\r\n--B--\r\n"
    ).encode()
    reply, _ = replies.ingest(raw=dsn)
    assert reply.classification == "bounce" and reply.action == reminder
    assert BadAddress.objects.filter(email="ap@acme-client.example").exists()
    reminder.refresh_from_db()
    assert reminder.status == ActionStatus.FAILED
    letter = DunningAction.objects.get(fallback_of=reminder)
    assert letter.channel == "letter" and letter.status == ActionStatus.QUEUED


class FakeMailbox:
    def __init__(self, messages):
        self.messages = dict(messages)
        self.seen: list[str] = []

    def unseen(self):
        return [(uid, raw) for uid, raw in self.messages.items() if uid not in self.seen]

    def mark_seen(self, uid):
        self.seen.append(uid)


def test_the_poller_reads_unseen_messages_once(book):  # noqa: F811
    box = FakeMailbox({"1": eml("<p1@c>", "Re", "will pay next week"), "2": b"garbage without headers"})
    assert replies.poll(box) == {"read": 2, "new": 1}
    assert replies.poll(box) == {"read": 0, "new": 0}
    assert Reply.objects.get().classification == "promise"


def test_mail_ingest_command(book, tmp_path: Path, capsys):  # noqa: F811
    path = tmp_path / "reply.eml"
    path.write_bytes(eml("<c1@c>", "Re: relance", "Nous contestons le prix."))
    call_command("mail", "ingest", str(path), "--json")
    (row,) = json.loads(capsys.readouterr().out)
    assert row["customer_ref"] == "ACME" and row["classification"] == "dispute" and row["created"]
