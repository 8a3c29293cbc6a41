"""The cycle end to end: decisions recorded, real e-mails over SMTP, letters as PDF, idempotency."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from relance.alerts.models import Alert
from relance.collections import cycle, services
from relance.collections.models import (
    ActionStatus,
    Activity,
    BadAddress,
    CollectionSettings,
    CycleRun,
    DunningAction,
    Task,
)
from relance.core import audit, clock, errors
from relance.core.money import Money
from relance.ledger import services as ledger
from relance.ledger.models import Customer, LegalEntity
from relance.risk import scoring
from relance.risk.models import LegalEvent

from ..factories import ContactFactory, CustomerFactory

DAY = dt.date(2026, 6, 30)


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def book(world):
    """Customer ACME with a contact, two invoices 1 day and 16 days late."""
    fr = world.fr
    cust = CustomerFactory(
        company=fr, reference="ACME", name="Acme SARL", collector=world.users["collector_alice"], language="fr"
    )
    ContactFactory(customer=cust, email="ap@acme-client.example", name="Claire Payeur")
    docs = {}
    for number, days_late, amount in [("F-1", 1, "300.00"), ("F-2", 16, "900.00")]:
        due = DAY - dt.timedelta(days=days_late)
        docs[number], _ = ledger.document_upsert(
            actor=audit.SYSTEM,
            company=fr,
            customer=cust,
            number=number,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            currency="EUR",
            amount=amount,
        )
    return cust, docs


def acme_actions(result):
    return [a for a in result.actions if a["customer_ref"] == "ACME"]


def test_a_run_sends_one_email_per_channel_with_pdfs_and_threading_headers(book, smtp):
    cust, docs = book
    result = cycle.cycle_run(as_of=DAY)
    actions = acme_actions(result)
    assert [(a["step"], a["channel"], a["documents"], a["status"]) for a in actions] == [
        ("first_reminder", "email", ["F-1"], "sent"),
        ("phone_call", "call", ["F-2"], "task_created"),
    ]
    (msg,) = [m for m in smtp.messages if "ap@acme-client.example" in m.recipients]
    ref = actions[0]["reference"]
    m = msg.message
    assert ref in m["Subject"] and m["Reply-To"] == f"collections+{ref}@acme.example"
    assert m["Cc"] == "alice@example.com" and "alice@example.com" in msg.recipients
    assert m["Message-ID"] == f"<{ref.lower()}@acme.example>"
    parts = {p.get_content_type() for p in m.walk()}
    assert {"text/plain", "text/html", "application/pdf"} <= parts
    text = m.get_body(preferencelist=("plain",)).get_content()
    assert "F-1" in text and "Claire Payeur" in text
    assert "http://127.0.0.1:8000/" in text and reverse("portal:home", kwargs={"token": "x"})[:-2] in text
    (pdf_part,) = [p for p in m.walk() if p.get_content_type() == "application/pdf"]
    assert pdf_part.get_filename() == "F-1.pdf" and "F-1" in pdf_text(pdf_part.get_content())
    act = Activity.objects.get(customer=cust, kind="reminder_sent")
    assert act.data["message_id"] == m["Message-ID"] and act.data["reference"] == ref
    task = Task.objects.get(customer=cust)
    assert task.kind == "call" and task.assignee == cust.collector and task.due_on == DAY


def test_running_twice_sends_nothing_twice(book, smtp):
    first = cycle.cycle_run(as_of=DAY)
    assert acme_actions(first)
    second = cycle.cycle_run(as_of=DAY)
    assert acme_actions(second) == []
    assert len([m for m in smtp.messages if "ap@acme-client.example" in m.recipients]) == 1
    assert Task.objects.filter(customer=book[0]).count() == 1
    assert CycleRun.objects.filter(status="done").count() == 2


class Crash(BaseException):
    """The process dies (not an error the code could catch and record)."""


class CrashAfterSending:
    def __init__(self):
        from relance.channels.mail import DjangoMailer

        self.inner = DjangoMailer()

    def send(self, message):
        self.inner.send(message)
        raise Crash()


def test_a_crash_between_sending_and_recording_never_sends_twice(book, smtp):
    cust, _ = book
    with pytest.raises(Crash):
        cycle.cycle_run(as_of=DAY, sender=CrashAfterSending())
    assert len(smtp.messages) == 1
    action = DunningAction.objects.get(customer=cust, channel="email")
    assert action.status == ActionStatus.SENDING  # intent and claim recorded, outcome not
    cycle.cycle_run(as_of=DAY)  # the rerun right away: still claimed, left alone
    assert len(smtp.messages) == 1
    clock_now = clock.now
    try:  # later, after the lease: flagged for a person, never resent
        clock.now = lambda: clock_now() + dt.timedelta(hours=1)
        cycle.cycle_run(as_of=DAY + dt.timedelta(days=1))
    finally:
        clock.now = clock_now
    action.refresh_from_db()
    assert action.status == ActionStatus.UNCONFIRMED and len(smtp.messages) == 1
    assert Task.objects.filter(customer=cust, kind="check").count() == 1


def test_a_connection_cut_while_the_server_takes_the_message_is_never_retried(book, smtp):
    cust, _ = book
    smtp.handler.cut_after_data = True  # the server keeps the message but the answer never arrives
    result = cycle.cycle_run(as_of=DAY)
    assert len(smtp.messages) == 1
    action = DunningAction.objects.get(customer=cust, channel="email")
    assert action.status == ActionStatus.UNCONFIRMED and action.message_id
    [emailed] = [a for a in acme_actions(result) if a["channel"] == "email"]
    assert emailed["status"] == "failed" and "not resent" in emailed["reason"]
    assert Task.objects.filter(customer=cust, kind="check").count() == 1
    smtp.handler.cut_after_data = False
    cycle.cycle_run(as_of=DAY)
    cycle.cycle_run(as_of=DAY + dt.timedelta(days=1))
    assert len(smtp.messages) == 1  # neither the same day nor the next one
    assert Task.objects.filter(customer=cust, kind="check").count() == 1


def test_a_refused_address_is_marked_bad_and_a_letter_goes_instead(book, smtp):
    cust, _ = book
    smtp.handler.refuse.add("ap@acme-client.example")
    result = cycle.cycle_run(as_of=DAY)
    email = acme_actions(result)[0]
    assert email["status"] == "failed" and email["reason"].startswith("bounced")
    assert BadAddress.objects.filter(email="ap@acme-client.example").exists()
    letter = DunningAction.objects.get(customer=cust, channel="letter")
    assert letter.status == ActionStatus.QUEUED and letter.fallback_of.channel == "email"
    text = pdf_text(letter.file.read())
    assert "F-1" in text and "Acme SARL" in text and letter.reference in text
    assert Activity.objects.filter(customer=cust, kind="email_bounced").exists()


def test_a_customer_without_email_gets_a_letter(world, smtp):
    cust = CustomerFactory(company=world.fr, reference="NOMAIL", name="Sans Courriel", language="en")
    ledger.document_upsert(
        actor=audit.SYSTEM,
        company=world.fr,
        customer=cust,
        number="N-1",
        issue_date=DAY - dt.timedelta(days=40),
        due_date=DAY - dt.timedelta(days=2),
        currency="EUR",
        amount="50.00",
    )
    result = cycle.cycle_run(as_of=DAY)
    (action,) = [a for a in result.actions if a["customer_ref"] == "NOMAIL"]
    assert (action["channel"], action["status"]) == ("letter", "queued")
    text = pdf_text(DunningAction.objects.get(customer=cust).file.read())
    assert "Payment reminder" in text and "N-1" in text


def test_disputed_and_promised_documents_are_held_and_resume(book, smtp):
    cust, docs = book
    services.dispute_open(actor=audit.SYSTEM, customer=cust, documents=[docs["F-1"]], reason="price")
    promise = services.promise_create(
        actor=audit.SYSTEM,
        customer=cust,
        documents=[docs["F-2"]],
        amount=Money(Decimal("900"), "EUR"),
        promised_for=DAY + dt.timedelta(days=5),
    )
    result = cycle.cycle_run(as_of=DAY)
    assert {(a["documents"][0], a["status"], a.get("reason")) for a in acme_actions(result)} == {
        ("F-1", "skipped", "disputed"),
        ("F-2", "skipped", "promised"),
    }
    services.promise_break(actor=audit.SYSTEM, promise=promise, as_of=DAY + dt.timedelta(days=6))
    result = cycle.cycle_run(as_of=DAY + dt.timedelta(days=6))
    assert [(a["documents"], a["status"]) for a in acme_actions(result) if a["status"] != "skipped"] == [
        (["F-2"], "task_created")
    ]


def test_insolvency_proceedings_stop_dunning_for_every_account_of_the_legal_entity(book, world, smtp):
    cust, _ = book
    uk_account = CustomerFactory(company=world.uk, reference="ACME-UK", name="Acme Ltd")
    ledger.document_upsert(
        actor=audit.SYSTEM, company=world.uk, customer=uk_account, number="UK-1", currency="GBP", amount="500.00",
        issue_date=DAY - dt.timedelta(days=60), due_date=DAY - dt.timedelta(days=20),
    )  # fmt: skip
    entity = LegalEntity.objects.create(key="SIREN:552100554", name="Acme", country="FR", siren="552100554")
    Customer.objects.filter(pk__in=[cust.pk, uk_account.pk]).update(legal_entity=entity)
    before = {a["customer_ref"]: a["status"] for a in cycle.cycle_run(as_of=DAY, dry_run=True).actions}
    assert before["ACME"] != "skipped" and before["ACME-UK"] != "skipped"

    LegalEvent.objects.create(
        legal_entity=entity, kind="receivership", reference="A2026-1", published_on=DAY - dt.timedelta(days=1)
    )
    scoring.rescore(as_of=DAY)
    result = cycle.cycle_run(as_of=DAY)
    mine = [a for a in result.actions if a["customer_ref"] in ("ACME", "ACME-UK")]
    assert mine and {(a["status"], a.get("reason")) for a in mine} == {("skipped", "insolvency")}
    assert smtp.messages == []


def test_dry_run_records_nothing(book):
    result = cycle.cycle_run(as_of=DAY, dry_run=True)
    assert {a["status"] for a in acme_actions(result)} == {"queued"}
    assert not DunningAction.objects.exists() and not CycleRun.objects.exists()


def test_a_date_before_the_last_completed_run_is_refused_unless_dry_run(book):
    cycle.cycle_run(as_of=DAY)
    with pytest.raises(errors.ValidationError, match="last completed run is for 2026-06-30"):
        cycle.cycle_run(as_of=DAY - dt.timedelta(days=1))
    cycle.cycle_run(as_of=DAY - dt.timedelta(days=1), dry_run=True)


def test_stale_ledger_data_holds_the_company_back_today_only(book, smtp):
    CollectionSettings.objects.create(company=book[0].company, freshness_hours=24)
    clock_now = clock.now
    try:
        clock.now = lambda: clock_now() + dt.timedelta(days=3)
        result = cycle.cycle_run(as_of=DAY)
    finally:
        clock.now = clock_now
    assert "FR1" in result.held_companies
    assert {(a["status"], a.get("reason")) for a in acme_actions(result)} == {("skipped", "stale_data")}
    assert Alert.objects.filter(kind=cycle.STALE_ALERT, company=book[0].company, cleared_on__isnull=True).exists()
    assert not smtp.messages
    # the same data, a run for another date (a back-test): not held back
    result = cycle.cycle_run(as_of=DAY + dt.timedelta(days=1))
    assert "FR1" not in result.held_companies and acme_actions(result)


def test_freshness_zero_disables_the_check(book):
    CollectionSettings.objects.create(company=book[0].company, freshness_hours=0)
    clock_now = clock.now
    try:
        clock.now = lambda: clock_now() + dt.timedelta(days=30)
        result = cycle.cycle_run(as_of=DAY, dry_run=True)
    finally:
        clock.now = clock_now
    assert "FR1" not in result.held_companies


def test_the_command_prints_the_json_shape(book, capsys):
    call_command("cycle", "--date", DAY.isoformat(), "--dry-run", "--json")
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["date"] == "2026-06-30"
    first = [a for a in out["actions"] if a["customer_ref"] == "ACME"][0]
    assert set(first) >= {"company", "customer_ref", "currency", "step", "channel", "documents", "status"}
    assert first["company"] == "FR1" and first["currency"] == "EUR"


def test_the_command_reviews_promises_first_then_runs(book, smtp, capsys):
    cust, docs = book
    services.promise_create(
        actor=audit.SYSTEM,
        customer=cust,
        documents=[docs["F-1"]],
        amount=Money(Decimal("300"), "EUR"),
        promised_for=DAY - dt.timedelta(days=5),
        as_of=DAY - dt.timedelta(days=6),
    )
    call_command("cycle", "--date", DAY.isoformat())
    out = capsys.readouterr().out
    assert "Promises: 0 kept, 1 broken." in out and "first_reminder email F-1: sent" in out


def test_the_daily_jobs_review_promises_then_remind(book, smtp):
    from relance.core import scheduler

    names = sorted(scheduler.jobs())
    assert names.index("collections_promises") < names.index("collections_reminders")
    run = scheduler.run_job("collections_reminders", DAY)
    assert run.status == "done" and run.result["actions"]["sent"] == 1  # ACME's e-mail (the others: letters)
    assert DunningAction.objects.filter(customer=book[0], channel="call", status="task_created").count() == 1
    assert scheduler.run_job("collections_reminders", DAY) is None  # once per date
    assert len([m for m in smtp.messages if "ap@acme-client.example" in m.recipients]) == 1
