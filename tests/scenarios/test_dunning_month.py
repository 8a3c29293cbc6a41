"""A month of dunning, day by day: every action taken, and nothing sent twice — even after a crash.

June 2026, the default scenarios, nine customers:

=========  =================  ===============================================================================
customer   payer profile      story
=========  =================  ===============================================================================
PROMPT     prompt             P-1 due 06-10, courtesy e-mail, pays the day before it is due
SLOW       slow_steady        S-1 due 06-03 (800), the whole ladder to the phone call, pays 06-22
PARTIAL    erratic            R-1 due 06-02 (1000), pays 600 then 395.50: the 4.50 residual is never chased
DISPUTE    erratic            D-1/D-2 due 06-01, D-2 disputed 06-05 (held), rejected 06-20 (resumes: a call)
KEPT       prompt             K-1 due 06-04, promise 06-06 for 06-12, pays 06-11: kept, nothing more
BROKEN     erratic            B-1 due 06-04 (2000), promise for 06-10 not kept: broken 06-13, dunning resumes
LATE       defaulting         high-risk scenario; L-1 due 05-25 (1500): catch-up call, formal notice with interest
                              (also on L-0, paid 20 days late in April), litigation hand-over
CREDIT     prompt             C-1 due 06-08 (300) covered by credit note CN-1 (300): never chased
NOMAIL     prompt             N-1 due 06-20, no e-mail address: letters
=========  =================  ===============================================================================

On 06-11 the process dies right after the SMTP server accepted SLOW's second reminder and before it was
recorded; the run is started again the same day. That reminder must exist once in the mailbox, never twice.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from relance.alerts.models import Alert
from relance.channels.mail import DjangoMailer
from relance.collections import cycle, promises, services
from relance.collections.models import ActionStatus, Claim, DunningAction, Promise, Task
from relance.core import audit, clock
from relance.core.money import Money
from relance.core.vocab import DocumentType
from relance.ledger import services as ledger

from ..collections.conftest import smtp  # noqa: F401 - the SMTP server fixture
from ..factories import CompanyFactory, ContactFactory, CustomerFactory, UserFactory

JUNE = [dt.date(2026, 6, d) for d in range(1, 31)]
D = dt.date


def j(day: int) -> dt.date:
    return D(2026, 6, day)


CUSTOMERS = {
    # ref: (payer profile, language, has e-mail)
    "PROMPT": ("prompt", "fr", True),
    "SLOW": ("slow_steady", "fr", True),
    "PARTIAL": ("erratic", "fr", True),
    "DISPUTE": ("erratic", "fr", True),
    "KEPT": ("prompt", "fr", True),
    "BROKEN": ("erratic", "fr", True),
    "LATE": ("defaulting", "en", True),
    "CREDIT": ("prompt", "fr", True),
    "NOMAIL": ("prompt", "fr", False),
}
INVOICES = [
    # number, customer, due date, amount
    ("P-1", "PROMPT", j(10), "400.00"),
    ("S-1", "SLOW", j(3), "800.00"),
    ("R-1", "PARTIAL", j(2), "1000.00"),
    ("D-1", "DISPUTE", j(1), "300.00"),
    ("D-2", "DISPUTE", j(1), "700.00"),
    ("K-1", "KEPT", j(4), "600.00"),
    ("B-1", "BROKEN", j(4), "2000.00"),
    ("L-0", "LATE", D(2026, 4, 1), "1000.00"),
    ("L-1", "LATE", D(2026, 5, 25), "1500.00"),
    ("C-1", "CREDIT", j(8), "300.00"),
    ("N-1", "NOMAIL", j(20), "100.00"),
]

# Every action expected in June (skipped ones apart): day, customer, step, channel, documents, status.
EXPECTED = [
    (1, "DISPUTE", "courtesy", "email", ["D-1", "D-2"], "sent"),
    (1, "SLOW", "courtesy", "email", ["S-1"], "sent"),
    (1, "PARTIAL", "courtesy", "email", ["R-1"], "sent"),
    (1, "KEPT", "courtesy", "email", ["K-1"], "sent"),
    (1, "BROKEN", "courtesy", "email", ["B-1"], "sent"),
    (1, "LATE", "phone_call", "call", ["L-1"], "task_created"),  # catch-up: only the step now due
    (2, "DISPUTE", "first_reminder", "email", ["D-1", "D-2"], "sent"),
    (3, "PARTIAL", "first_reminder", "email", ["R-1"], "sent"),
    (4, "SLOW", "first_reminder", "email", ["S-1"], "sent"),
    (5, "KEPT", "first_reminder", "email", ["K-1"], "sent"),
    (5, "BROKEN", "first_reminder", "email", ["B-1"], "sent"),
    (7, "PROMPT", "courtesy", "email", ["P-1"], "sent"),
    (9, "DISPUTE", "second_reminder", "email", ["D-1"], "sent"),
    (9, "LATE", "formal_notice", "formal_notice", ["L-1"], "queued"),
    (10, "PARTIAL", "second_reminder", "email", ["R-1"], "sent"),
    (11, "SLOW", "second_reminder", "email", ["S-1"], "crash"),
    (13, "BROKEN", "second_reminder", "email", ["B-1"], "sent"),
    (17, "NOMAIL", "courtesy", "letter", ["N-1"], "queued"),
    (18, "SLOW", "phone_call", "call", ["S-1"], "task_created"),
    (19, "BROKEN", "phone_call", "call", ["B-1"], "task_created"),
    (20, "DISPUTE", "phone_call", "call", ["D-1", "D-2"], "task_created"),
    (21, "NOMAIL", "first_reminder", "letter", ["N-1"], "queued"),
    (24, "LATE", "litigation", "litigation", ["L-1"], "task_created"),
    (28, "NOMAIL", "second_reminder", "letter", ["N-1"], "queued"),
]
EXPECTED_SKIPS = [
    (5, "CREDIT", ["C-1"], "covered"),
    (9, "DISPUTE", ["D-2"], "disputed"),
    (12, "BROKEN", ["B-1"], "promised"),
]


class Crash(BaseException):
    """The process dies: not an exception the cycle could catch and record."""


class CrashAfterSending:
    def __init__(self) -> None:
        self.inner = DjangoMailer()

    def send(self, message) -> None:
        self.inner.send(message)
        raise Crash()


@pytest.fixture
def month(db, monkeypatch):
    company = CompanyFactory(code="FR9", name="Relance Test SAS", country="FR", currency="EUR")
    collector = UserFactory(email="colette@relance.example")
    customers = {}
    for ref, (profile, language, has_email) in CUSTOMERS.items():
        customers[ref] = CustomerFactory(
            company=company,
            reference=ref,
            name=f"{ref.title()} SARL",
            payer_profile=profile,
            language=language,
            collector=collector,
        )
        if has_email:
            ContactFactory(customer=customers[ref], email=f"ap@{ref.lower()}.example", name=f"AP {ref}")
    docs = {}
    for number, ref, due, amount in INVOICES:
        docs[number], _ = ledger.document_upsert(
            actor=audit.SYSTEM,
            company=company,
            customer=customers[ref],
            number=number,
            issue_date=due - dt.timedelta(days=30),
            due_date=due,
            currency="EUR",
            amount=amount,
        )
    pay(customers["LATE"], docs["L-0"], "1000.00", D(2026, 4, 21))  # 20 days late, in April
    # the business date and the instant move together, day by day
    now = {"at": clock.now()}
    monkeypatch.setattr(clock, "now", lambda: now["at"])
    return company, customers, docs, now


def pay(customer, invoice, amount: str, day: dt.date) -> None:
    payment, _ = ledger.payment_upsert(
        actor=audit.SYSTEM,
        company=customer.company,
        customer=customer,
        reference=f"PAY-{invoice.number}-{day.isoformat()}",
        date=day,
        currency="EUR",
        amount=amount,
    )
    ledger.allocation_create(actor=audit.SYSTEM, target=invoice, amount=amount, date=day, payment=payment)


def events(day: dt.date, customers, docs) -> None:
    """What happens in the ledger and on the phone that day, before the morning run."""
    c, d = customers, docs
    if day == j(3):
        ledger.document_upsert(
            actor=audit.SYSTEM,
            company=c["CREDIT"].company,
            customer=c["CREDIT"],
            number="CN-1",
            type=DocumentType.CREDIT_NOTE,
            issue_date=j(3),
            due_date=j(3),
            currency="EUR",
            amount="300.00",
            corrects=d["C-1"],
        )
    if day == j(5):
        pay(c["PARTIAL"], d["R-1"], "600.00", j(5))
        services.dispute_open(
            actor=audit.SYSTEM, customer=c["DISPUTE"], documents=[d["D-2"]], reason="quality", as_of=j(5)
        )
    if day == j(6):
        services.promise_create(
            actor=audit.SYSTEM,
            customer=c["KEPT"],
            documents=[d["K-1"]],
            amount=Money(Decimal("600"), "EUR"),
            promised_for=j(12),
            as_of=j(6),
        )
        services.promise_create(
            actor=audit.SYSTEM,
            customer=c["BROKEN"],
            documents=[d["B-1"]],
            amount=Money(Decimal("2000"), "EUR"),
            promised_for=j(10),
            as_of=j(6),
        )
    if day == j(9):
        pay(c["PROMPT"], d["P-1"], "400.00", j(9))
    if day == j(11):
        pay(c["KEPT"], d["K-1"], "600.00", j(11))
    if day == j(12):
        pay(c["PARTIAL"], d["R-1"], "395.50", j(12))  # 4.50 left: a residual
    if day == j(15):
        from relance.ledger.models import Document

        ledger.allocation_create(
            actor=audit.SYSTEM,
            target=d["C-1"],
            amount="300.00",
            date=j(15),
            credit_note=Document.objects.get(number="CN-1"),
        )
    if day == j(20):
        dispute = c["DISPUTE"].disputes.get()
        services.dispute_resolve(actor=audit.SYSTEM, dispute=dispute, status="rejected", as_of=j(20))
    if day == j(22):
        pay(c["SLOW"], d["S-1"], "800.00", j(22))


def test_a_month_of_dunning(month, smtp):  # noqa: F811
    company, customers, docs, now = month
    taken, skips = [], []
    try:
        for day in JUNE:
            clock.freeze(day)
            now["at"] = dt.datetime.combine(day, dt.time(7, 0), tzinfo=dt.UTC)
            events(day, customers, docs)
            promises.review(as_of=day)
            if day == j(11):
                # the process dies right after the SMTP server took SLOW's reminder; it is started again
                with pytest.raises(Crash):
                    cycle.cycle_run(as_of=day, sender=CrashAfterSending())
                taken.append((11, "SLOW", "second_reminder", "email", ["S-1"], "crash"))
                now["at"] += dt.timedelta(minutes=5)
            collect(cycle.cycle_run(as_of=day), day, taken, skips)
    finally:
        clock.freeze(None)
    assert sorted(taken, key=order) == sorted(EXPECTED, key=order)
    for skip in EXPECTED_SKIPS:
        assert skip in skips

    # nothing sent twice: one message per e-mail action, each Message-ID once in the mailbox
    ids = [m.message["Message-ID"] for m in smtp.messages]
    assert len(ids) == len(set(ids))
    emails = DunningAction.objects.filter(channel="email")
    assert len(ids) == emails.count() == sum(1 for e in EXPECTED if e[3] == "email")
    crashed = DunningAction.objects.get(customer=customers["SLOW"], step="second_reminder")
    assert crashed.status == ActionStatus.UNCONFIRMED  # flagged the next day, never resent
    assert Task.objects.filter(customer=customers["SLOW"], kind="check").count() == 1
    for msg in smtp.messages:  # a courtesy note is not a reminder; every one carries its reference
        assert str(msg.message["Subject"]).strip().startswith("[R")


def order(row):
    return (row[0], row[1], row[2])


def collect(run, day, taken, skips) -> None:
    for a in run.actions:
        if a["status"] == "skipped":
            skips.append((day.day, a["customer_ref"], a["documents"], a["reason"]))
        else:
            taken.append((day.day, a["customer_ref"], a["step"], a["channel"], a["documents"], a["status"]))


def test_the_formal_notice_claims_interest_and_indemnities_once(month, smtp):  # noqa: F811
    company, customers, docs, now = month
    clock.freeze(j(9))
    try:
        result = cycle.cycle_run(as_of=j(9))
    finally:
        clock.freeze(None)
    (notice,) = [a for a in result.actions if a["customer_ref"] == "LATE"]
    assert (notice["step"], notice["status"]) == ("formal_notice", "queued")
    action = DunningAction.objects.get(reference=notice["reference"])
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(action.file.read())).pages)
    assert "Formal notice to pay" in text and "L-1" in text and "L-0" in text
    # 2026 H1: ECB MRO on 1 January 2.15 % + 10 points = 12.15 %
    # L-0: 1000 × 12.15 % × 20/365 = 6.66 ; L-1: 1500 × 12.15 % × 15/365 = 7.49 ; indemnities 2 × 40
    claims = {(c.document.number, c.kind): c.amount for c in Claim.objects.select_related("document")}
    assert claims == {
        ("L-0", "interest"): Decimal("6.66"),
        ("L-0", "indemnity"): Decimal("40.00"),
        ("L-1", "interest"): Decimal("7.49"),
        ("L-1", "indemnity"): Decimal("40.00"),
    }
    assert "€1,594.15" in text  # 1500 + 6.66 + 7.49 + 80
    # a later notice claims only the interest accrued since, and no indemnity again
    from relance.collections import interest

    later = interest.lines_for(customers["LATE"], [docs["L-1"], docs["L-0"]], j(19))
    assert [(x["number"], x["kind"], x["period_from"], x["amount"]) for x in later] == [
        ("L-1", "interest", j(10), Decimal("4.99"))  # 1500 × 12.15 % × 10/365
    ]


def test_promise_review_raises_an_alert_when_broken(month):
    company, customers, docs, now = month
    p = services.promise_create(
        actor=audit.SYSTEM,
        customer=customers["BROKEN"],
        documents=[docs["B-1"]],
        amount=Money(Decimal("2000"), "EUR"),
        promised_for=j(10),
        as_of=j(6),
    )
    assert promises.review(as_of=j(12)) == {"kept": 0, "broken": 0, "still_open": 1}
    assert promises.review(as_of=j(13)) == {"kept": 0, "broken": 1, "still_open": 0}
    p.refresh_from_db()
    assert p.status == "broken" and p.resolved_on == j(13)
    alert = Alert.objects.get(kind=promises.BROKEN_ALERT)
    assert alert.customer == customers["BROKEN"] and alert.key == str(p.pk)
    assert Promise.objects.filter(status="open").count() == 0
