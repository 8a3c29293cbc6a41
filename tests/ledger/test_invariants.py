"""Ledger invariants under any sequence of operations (hypothesis), against the real database.

- an allocation never exceeds the open amount of either side;
- open amounts equal amount − allocations (recomputed from scratch by check_invariants);
- a customer's balance equals documents minus payments, i.e. open invoices − open credit notes − unallocated cash;
- a refused operation writes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from relance.core import errors
from relance.core.models import AuditEntry
from relance.ledger import selectors, services
from relance.ledger.models import Allocation, Document, Payment
from tests.factories import CompanyFactory, CustomerFactory

cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
DAY = dt.date(2026, 3, 1)


class LedgerMachine(RuleBasedStateMachine):
    invoices = Bundle("invoices")
    credit_notes = Bundle("credit_notes")
    payments = Bundle("payments")
    allocations = Bundle("allocations")

    @initialize()
    def setup(self):
        # Each example runs in a transaction rolled back by teardown(): examples never see each other's rows.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.company = CompanyFactory(code="HYP", currency="EUR")
        self.customers = [CustomerFactory(company=self.company), CustomerFactory(company=self.company)]
        self.n = 0

    def teardown(self):
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    def _next(self, prefix):
        self.n += 1
        return f"{prefix}{self.n}"

    @rule(target=invoices, amount=cents, who=st.integers(0, 1))
    def invoice(self, amount, who):
        doc, _ = services.document_upsert(
            actor="test",
            company=self.company,
            customer=self.customers[who],
            number=self._next("F"),
            issue_date=DAY,
            due_date=DAY + dt.timedelta(days=30),
            currency="EUR",
            amount=amount,
        )
        return doc

    @rule(target=credit_notes, amount=cents, who=st.integers(0, 1))
    def credit_note(self, amount, who):
        doc, _ = services.document_upsert(
            actor="test",
            company=self.company,
            customer=self.customers[who],
            number=self._next("A"),
            type="credit_note",
            issue_date=DAY,
            due_date=DAY,
            currency="EUR",
            amount=amount,
        )
        return doc

    @rule(target=payments, amount=cents, who=st.integers(0, 1))
    def payment(self, amount, who):
        pay, _ = services.payment_upsert(
            actor="test",
            company=self.company,
            customer=self.customers[who],
            reference=self._next("P"),
            date=DAY,
            currency="EUR",
            amount=amount,
        )
        return pay

    def _try(self, fn):
        rows = (Allocation.objects.count(), AuditEntry.objects.count())
        try:
            return fn()
        except errors.ValidationError:
            assert (Allocation.objects.count(), AuditEntry.objects.count()) == rows, "a refusal wrote something"
            return None

    @rule(target=allocations, target_doc=invoices, source=payments, amount=cents)
    def allocate_payment(self, target_doc, source, amount):
        return self._try(
            lambda: services.allocation_create(actor="test", target=target_doc, payment=source, amount=amount, date=DAY)
        )

    @rule(target=allocations, target_doc=invoices, source=credit_notes, amount=cents)
    def allocate_credit_note(self, target_doc, source, amount):
        return self._try(
            lambda: services.allocation_create(
                actor="test", target=target_doc, credit_note=source, amount=amount, date=DAY
            )
        )

    @rule(target_doc=invoices, source=payments)
    def allocate_all_that_fits(self, target_doc, source):
        target_doc.refresh_from_db()
        source.refresh_from_db()
        amount = min(target_doc.open_amount, source.unallocated_amount)
        if amount > 0 and target_doc.customer_id == source.customer_id:
            services.allocation_create(actor="test", target=target_doc, payment=source, amount=amount, date=DAY)
            target_doc.refresh_from_db()
            source.refresh_from_db()
            assert target_doc.open_amount == 0 or source.unallocated_amount == 0

    @rule(target=allocations, doc=st.one_of(invoices, credit_notes))
    def close_by_source(self, doc):
        return self._try(lambda: services.document_close(actor="test", document=doc, date=DAY))

    @rule(allocation=allocations)
    def reverse(self, allocation):
        if allocation is not None:
            self._try(lambda: services.allocation_reverse(actor="test", allocation=allocation, date=DAY))

    @invariant()
    def derived_amounts_match_allocations(self):
        assert selectors.check_invariants() == []

    @invariant()
    def balance_is_documents_minus_payments(self):
        for customer in self.customers:
            docs = Document.objects.filter(customer=customer)
            inv = docs.filter(type="invoice").aggregate(a=Sum("amount"), o=Sum("open_amount"))
            cn = docs.filter(type="credit_note").aggregate(a=Sum("amount"), o=Sum("open_amount"))
            pay = Payment.objects.filter(customer=customer).aggregate(a=Sum("amount"), u=Sum("unallocated_amount"))

            def d(v):
                return Decimal(str(v or 0)).quantize(Decimal("0.01"))

            closures = Allocation.objects.filter(customer=customer, payment__isnull=True, credit_note__isnull=True)
            closed_inv = closures.filter(target__type="invoice").aggregate(s=Sum("amount"))["s"]
            closed_cn = closures.filter(target__type="credit_note").aggregate(s=Sum("amount"))["s"]
            # documents minus payments minus non-cash settlements (source closures, write-offs)
            from_documents = d(inv["a"]) - d(cn["a"]) - d(pay["a"]) - d(closed_inv) + d(closed_cn)
            from_open_items = d(inv["o"]) - d(cn["o"]) - d(pay["u"])
            assert from_documents == from_open_items

    @invariant()
    def open_amounts_stay_in_range(self):
        assert not Document.objects.filter(open_amount__lt=0).exists()
        assert not Payment.objects.filter(unallocated_amount__lt=0).exists()


def test_ledger_invariants_hold_under_any_sequence_of_operations(db):
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=20,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
