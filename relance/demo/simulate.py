"""Three years of one customer's ledger, as rows ready for ``executemany`` (pure: no ORM, no clock).

Amounts are integer minor units (cents) until the row is built, then ``Decimal(cents).scaleb(-2)``.
Dates are ``date.toordinal()`` integers; the backend's date/timestamp values come from tables built
once (``Tables``). Every allocation is decided together with its invoice, so the invoice's open amount
and settlement date are exact when its row is written:

    open = amount − deposit allocated − credit note allocated − payments dated on or before as-of

Rows follow the column orders of :mod:`relance.demo.writer`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from relance.collections.models import DisputeReason, DisputeStatus
from relance.core.vocab import CustomerKind, DocumentType, PaymentKind, PaymentMethod

from .behaviour import DISPUTE_RATE, PARTIAL_RATE, Behaviour

SOURCE = "demo"
VAT_PERCENT = 20
CREDIT_NOTE_RATE = 0.02  # corrections without a dispute
OPEN_CREDIT_RATE = 0.01  # commercial gestures on recently settled invoices, left open
OVERPAY_RATE = 0.004
SHORT_PAY_RATE = 0.004

INVOICE = DocumentType.INVOICE.value
CREDIT_NOTE = DocumentType.CREDIT_NOTE.value
PAYMENT = PaymentKind.PAYMENT.value
DEPOSIT = PaymentKind.DEPOSIT.value

PREFIXES = {
    # style: (invoice, credit note, payment, deposit)
    "fr": ("FA", "AV", "RG", "AC"),
    "en": ("INV", "CN", "RCP", "DEP"),
}

DISPUTE_REASONS = (
    (DisputeReason.PRICE.value, 35),
    (DisputeReason.QUANTITY.value, 25),
    (DisputeReason.QUALITY.value, 20),
    (DisputeReason.NOT_RECEIVED.value, 10),
    (DisputeReason.DUPLICATE.value, 5),
    (DisputeReason.OTHER.value, 5),
)
DISPUTE_MESSAGES = {
    "fr": {
        "price": "Le prix facturé ne correspond pas au devis : remise de {pct} % non appliquée.",
        "quantity": "Livraison incomplète : {qty} unités manquantes sur le bon de livraison.",
        "quality": "Marchandise endommagée à la réception, réserves portées sur le bon de livraison.",
        "not_received": "Prestation non réalisée à la date prévue, merci d'annuler la facture.",
        "duplicate": "Facture reçue en double, déjà réglée sous une autre référence.",
        "other": "Bon de commande manquant : facture bloquée par notre service achats.",
    },
    "en": {
        "price": "Invoiced price does not match the quote: the {pct}% discount was not applied.",
        "quantity": "Short delivery: {qty} units missing against the delivery note.",
        "quality": "Goods damaged on arrival, noted on the delivery note.",
        "not_received": "Service not delivered on the agreed date, please cancel the invoice.",
        "duplicate": "Invoice received twice, already paid under another reference.",
        "other": "No purchase order number: invoice on hold with our purchasing team.",
    },
}
DISPUTE_OUTCOMES = (
    (DisputeStatus.RESOLVED_CREDIT_NOTE.value, 50),
    (DisputeStatus.REJECTED.value, 30),
    (DisputeStatus.PAID.value, 20),
)


def weighted(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    total = sum(w for _, w in table)
    r = rng.randrange(total)
    for value, w in table:
        if r < w:
            return value
        r -= w
    raise AssertionError("unreachable")


@dataclass(slots=True)
class CustomerPlan:
    """Everything the simulation needs about one customer account (ids already assigned)."""

    index: int
    id: int
    company_id: int
    style: str  # "fr" | "en": document numbering and messages
    currency: str
    language: str
    kind: str
    name: str
    terms: int
    taxed: bool
    behaviour: Behaviour
    batch: bool  # pays in weekly runs: one payment for several invoices
    method: str
    deposits: bool  # asks for deposits before large invoices
    n_invoices: int
    first_day: int
    last_day: int
    median: int  # median amount before tax, in cents (amounts are log-normal around it)
    collector_id: int | None


class Tables:
    """Per-day values computed once: the backend's date and timestamp values, 'yymmdd', workday shifts."""

    def __init__(
        self,
        first: int,
        last: int,
        *,
        adapt_date: Callable[[dt.date], Any],
        adapt_ts: Callable[[dt.datetime], Any],
    ) -> None:
        self.base = first
        self.date: list[Any] = []
        self.ts: list[Any] = []
        self.yymmdd: list[str] = []
        self.workday: list[int] = []  # Saturday → Friday, Sunday → Monday
        self.friday: list[int] = []  # nearest Friday (weekly payment runs)
        for o in range(first, last + 1):
            day = dt.date.fromordinal(o)
            self.date.append(adapt_date(day))
            # the nightly import at 05:00 UTC
            self.ts.append(adapt_ts(dt.datetime(day.year, day.month, day.day, 5, tzinfo=dt.UTC)))
            self.yymmdd.append(day.strftime("%y%m%d"))
            weekday = day.weekday()
            self.workday.append(o - 1 if weekday == 5 else o + 1 if weekday == 6 else o)
            delta = 4 - weekday
            if delta > 3:
                delta -= 7
            self.friday.append(o + delta)


@dataclass
class Buffers:
    """Rows waiting for the next insert, and running totals."""

    documents: list[tuple] = field(default_factory=list)
    payments: list[tuple] = field(default_factory=list)
    allocations: list[tuple] = field(default_factory=list)
    disputes: list[tuple] = field(default_factory=list)
    dispute_documents: list[tuple] = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)

    def take(self) -> dict[str, list[tuple]]:
        out = {
            "documents": self.documents,
            "payments": self.payments,
            "allocations": self.allocations,
            "disputes": self.disputes,
            "dispute_documents": self.dispute_documents,
        }
        self.documents, self.payments, self.allocations = [], [], []
        self.disputes, self.dispute_documents = [], []
        return out


class Simulator:
    """Turns customer plans into ledger rows; holds the id counters and numbering sequences."""

    def __init__(self, tables: Tables, *, as_of: int, next_ids: dict[str, int]) -> None:
        self.t = tables
        self.as_of = as_of
        self.next_doc = next_ids["documents"]
        self.next_pay = next_ids["payments"]
        self.next_dispute = next_ids["disputes"]
        self.sequences: dict[tuple[int, str, int], int] = {}
        self.out = Buffers()

    def number(self, company_id: int, prefix: str, day: int, width: int = 4) -> str:
        key = (company_id, prefix, day)
        n = self.sequences.get(key, 0) + 1
        self.sequences[key] = n
        return f"{prefix}{self.t.yymmdd[day - self.t.base]}-{n:0{width}d}"

    def customer(self, c: CustomerPlan, rng: random.Random) -> None:  # noqa: C901 - one pass, kept together for speed
        t, base, as_of = self.t, self.t.base, self.as_of
        tdate, tts, workday, friday = t.date, t.ts, t.workday, t.friday
        out = self.out
        docs, allocs, stats = out.documents, out.allocations, out.stats
        cid, coid, cur = c.id, c.company_id, c.currency
        inv_prefix, cn_prefix, pay_prefix, dep_prefix = PREFIXES[c.style]
        b = c.behaviour
        terms, taxed, median = c.terms, c.taxed, c.median
        mu, big = math.log(median), median * 5 // 4
        dispute_rate = DISPUTE_RATE[b.profile] * (0.5 if c.kind == CustomerKind.CONSUMER else 1.0)
        partial_rate = PARTIAL_RATE[b.profile]
        batch = c.batch
        rand, randint = rng.random, rng.randint
        D = Decimal
        money = lambda cents: D(cents).scaleb(-2)  # noqa: E731

        span = c.last_day - c.first_day + 1
        days = sorted(workday[c.first_day + rng.randrange(span) - base] for _ in range(c.n_invoices))
        events: list[tuple[int, int, int, str, int]] = []  # (day, invoice id, cents, invoice number, overpaid cents)
        deposits: list[tuple[int, int, int, int]] = []  # (day, invoice id, cents, allocation day)
        for issue in days:
            if issue > as_of:
                issue = as_of
            due = issue + terms
            ht = int(rng.lognormvariate(mu, 0.9))
            ht = max(1_000, min(ht, median * 40))
            tax = (ht * VAT_PERCENT + 50) // 100 if taxed else 0
            amount = ht + tax
            inv_id = self.next_doc
            self.next_doc += 1
            number = self.number(coid, inv_prefix, issue)
            allocated = 0
            last = issue

            # a deposit received weeks before a large invoice, allocated when the invoice is issued
            if c.deposits and ht >= big and rand() < 0.5:
                dep = amount * 3 // 10 // 100 * 100
                if dep > 0:
                    deposits.append((issue - randint(7, 40), inv_id, dep, issue))
                    allocated += dep

            # a dispute: settled by a credit note, rejected, or paid; still open if not resolved by as-of
            pay_floor = issue
            blocked = False
            cn_row = None  # written after its invoice: parents first, so no deferred key check is pending
            cn_day = 0
            cn_share = 0
            if rand() < dispute_rate:
                opened = issue + randint(5, 35)
                if opened <= as_of:
                    dispute_id = self.next_dispute
                    self.next_dispute += 1
                    reason = weighted(rng, DISPUTE_REASONS)
                    message = DISPUTE_MESSAGES[c.language][reason].format(pct=randint(3, 15), qty=randint(2, 40))
                    resolved = opened + randint(7, 100)
                    if resolved > as_of:
                        status, resolved_value, blocked = DisputeStatus.OPEN.value, None, True
                        updated = opened
                    else:
                        status = weighted(rng, DISPUTE_OUTCOMES)
                        resolved_value = tdate[resolved - base]
                        updated = resolved
                        pay_floor = resolved + (randint(2, 20) if status == DisputeStatus.REJECTED.value else 0)
                        if status == DisputeStatus.RESOLVED_CREDIT_NOTE.value:
                            cn_day, cn_share = resolved, (100 if rand() < 0.3 else randint(5, 40))
                    out.disputes.append(
                        (
                            dispute_id,
                            coid,
                            cid,
                            reason,
                            message,
                            status,
                            tdate[opened - base],
                            resolved_value,
                            c.collector_id,
                            tts[opened - base],
                            tts[updated - base],
                        )
                    )
                    out.dispute_documents.append((dispute_id, inv_id))
                    stats["disputes_" + status] += 1
            elif rand() < CREDIT_NOTE_RATE:
                day = issue + randint(2, 30)
                if day <= as_of:
                    cn_day, cn_share = day, (100 if rand() < 0.25 else randint(5, 50))

            # a credit note correcting the invoice, allocated to it on its date
            if cn_day:
                remaining = amount - allocated
                cn_amount = remaining if cn_share == 100 else min(remaining, amount * cn_share // 100)
                if cn_amount > 0:
                    cn_tax = cn_amount - (cn_amount * 100 + 60) // 120 if taxed else 0
                    cn_id = self.next_doc
                    self.next_doc += 1
                    d, ts = tdate[cn_day - base], tts[cn_day - base]
                    cn_row = (
                        cn_id,
                        coid,
                        cid,
                        self.number(coid, cn_prefix, cn_day),
                        CREDIT_NOTE,
                        d,
                        d,
                        cur,
                        money(cn_amount),
                        money(cn_tax),
                        money(0),
                        d,
                        inv_id,
                        "",
                        SOURCE,
                        ts,
                        ts,
                    )
                    allocs.append((coid, cid, inv_id, None, cn_id, cur, money(cn_amount), d, None, SOURCE, None, ts))
                    allocated += cn_amount
                    last = max(last, cn_day)
                    pay_floor = max(pay_floor, cn_day)
                    stats["credit_notes"] += 1

            # the payment(s), as the profile pays
            remaining = amount - allocated
            if remaining > 0 and not blocked:
                delay = b.delay(rng, due)
                if delay is not None:
                    day = max(due + delay, pay_floor)
                    if rand() < partial_rate:
                        first = remaining * randint(25, 75) // 100 // 100 * 100
                        parts = [(day, first), (day + randint(10, 60), remaining - first)]
                        if not first:
                            parts = [(day, remaining)]
                    else:
                        parts = [(day, remaining)]
                    if len(parts) > 1:
                        stats["partially_paid_invoices"] += 1
                    for day, cents in parts:
                        if b.stop and day >= b.stop:
                            break
                        if batch:
                            day = friday[day - base]
                            if day < pay_floor:
                                day += 7
                        if day > as_of:
                            break
                        extra = 0
                        if not batch and len(parts) == 1:
                            r = rand()
                            if r < OVERPAY_RATE:
                                extra = randint(1, 50) * 100
                            elif r < OVERPAY_RATE + SHORT_PAY_RATE and cents > 5_000:
                                cents -= randint(100, 2_500)  # bank charges deducted: a small balance stays open
                                stats["short_payments"] += 1
                        events.append((day, inv_id, cents, number, extra))
                        allocated += cents
                        last = max(last, day)

            open_cents = amount - allocated
            settled = tdate[last - base] if open_cents == 0 else None
            docs.append(
                (
                    inv_id,
                    coid,
                    cid,
                    number,
                    INVOICE,
                    tdate[issue - base],
                    tdate[due - base],
                    cur,
                    money(amount),
                    money(tax),
                    money(open_cents),
                    settled,
                    None,
                    "",
                    SOURCE,
                    tts[issue - base],
                    tts[last - base],
                )
            )
            if cn_row is not None:
                docs.append(cn_row)
            stats["invoices"] += 1
            if open_cents:
                stats["open_invoices"] += 1
                if due < as_of:
                    stats["overdue_invoices"] += 1
            elif last >= as_of - 150 and rand() < OPEN_CREDIT_RATE:
                # a commercial gesture on a settled invoice: a credit note left open for a later invoice
                day = last + randint(3, 30)
                if day <= as_of:
                    cn_amount = amount * randint(5, 15) // 100
                    if cn_amount > 0:
                        cn_tax = cn_amount - (cn_amount * 100 + 60) // 120 if taxed else 0
                        d, ts = tdate[day - base], tts[day - base]
                        docs.append(
                            (
                                self.next_doc,
                                coid,
                                cid,
                                self.number(coid, cn_prefix, day),
                                CREDIT_NOTE,
                                d,
                                d,
                                cur,
                                money(cn_amount),
                                money(cn_tax),
                                money(cn_amount),
                                None,
                                inv_id,
                                "",
                                SOURCE,
                                ts,
                                ts,
                            )
                        )
                        self.next_doc += 1
                        stats["credit_notes"] += 1
                        stats["open_credit_notes"] += 1

        # a deposit just received for an order not invoiced yet: unallocated cash
        if c.deposits and c.last_day >= as_of - 60 and rand() < 0.5:
            cents = int(rng.lognormvariate(mu, 0.5)) * 36 // 100 // 100 * 100
            if cents > 0:
                deposits.append((as_of - randint(1, 30), 0, cents, 0))
        self._deposits(c, rng, deposits, dep_prefix)
        self._payments(c, rng, events, pay_prefix)

    def _deposits(self, c: CustomerPlan, rng: random.Random, deposits: list, prefix: str) -> None:
        tdate, tts, base = self.t.date, self.t.ts, self.t.base
        label = "ACOMPTE" if c.style == "fr" else "DEPOSIT"
        payer = c.name.upper()[:60]
        for day, inv_id, cents, alloc_day in deposits:
            pay_id = self.next_pay
            self.next_pay += 1
            amount = Decimal(cents).scaleb(-2)
            unallocated = amount if not inv_id else Decimal(0).scaleb(-2)
            ts = tts[day - base]
            self.out.payments.append(
                (
                    pay_id,
                    c.company_id,
                    c.id,
                    self.number(c.company_id, prefix, day),
                    DEPOSIT,
                    tdate[day - base],
                    c.currency,
                    amount,
                    unallocated,
                    PaymentMethod.TRANSFER.value,
                    f"{'VIR SEPA' if c.style == 'fr' else 'BACS'} {payer} {label}",
                    c.name,
                    SOURCE,
                    None,  # returned_on
                    ts,
                    tts[alloc_day - base] if inv_id else ts,
                )
            )
            self.out.stats["deposits"] += 1
            if inv_id:
                self.out.allocations.append(
                    (
                        c.company_id,
                        c.id,
                        inv_id,
                        pay_id,
                        None,
                        c.currency,
                        amount,
                        tdate[alloc_day - base],
                        None,
                        SOURCE,
                        None,
                        tts[alloc_day - base],
                    )
                )
            else:
                self.out.stats["unallocated_deposits"] += 1

    def _payments(self, c: CustomerPlan, rng: random.Random, events: list, prefix: str) -> None:
        """One payment per event, or per payment run (a day) for customers who pay in batches."""
        tdate, tts, base = self.t.date, self.t.ts, self.t.base
        out = self.out
        payments, allocs, stats = out.payments, out.allocations, out.stats
        coid, cid, cur = c.company_id, c.id, c.currency
        events.sort()
        groups: list[list[tuple]] = []
        if c.batch:
            for ev in events:
                if groups and groups[-1][0][0] == ev[0]:
                    groups[-1].append(ev)
                else:
                    groups.append([ev])
        else:
            groups = [[ev] for ev in events]
        payer = c.name.upper()[:60]
        fr = c.style == "fr"
        method = c.method
        for group in groups:
            day = group[0][0]
            pay_id = self.next_pay
            self.next_pay += 1
            total = sum(ev[2] + ev[4] for ev in group)
            extra = sum(ev[4] for ev in group)
            numbers = [ev[3] for ev in group]
            if method == PaymentMethod.TRANSFER:
                refs = " ".join(numbers[:4]) if rng.random() < 0.9 else ""
                bank_ref = f"{'VIR SEPA' if fr else 'FASTER PAYMENT'} {payer} {refs}".strip()
            elif method == PaymentMethod.DIRECT_DEBIT:
                bank_ref = f"{'PRLV SEPA' if fr else 'DIRECT DEBIT'} {payer} {numbers[0]}"
            elif method == PaymentMethod.CHECK:
                bank_ref = f"{'REMISE CHQ' if fr else 'CHQ'} {rng.randrange(1_000_000, 9_999_999)}"
            elif method == PaymentMethod.BILL:
                bank_ref = f"LCR {payer} {numbers[0]}"
            else:
                bank_ref = f"{'CB' if fr else 'CARD'} {payer} {numbers[0]}"
            d, ts = tdate[day - base], tts[day - base]
            payments.append(
                (
                    pay_id,
                    coid,
                    cid,
                    self.number(coid, prefix, day, 5),
                    PAYMENT,
                    d,
                    cur,
                    Decimal(total).scaleb(-2),
                    Decimal(extra).scaleb(-2),
                    method,
                    bank_ref[:140],
                    c.name,
                    SOURCE,
                    None,  # returned_on
                    ts,
                    ts,
                )
            )
            allocs.extend(
                (coid, cid, ev[1], pay_id, None, cur, Decimal(ev[2]).scaleb(-2), d, None, SOURCE, None, ts)
                for ev in group
            )
            stats["payments"] += 1
            if len(group) > 1:
                stats["multi_invoice_payments"] += 1
            if extra:
                stats["overpayments"] += 1
