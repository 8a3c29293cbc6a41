"""The matcher's book is read with one raw query: exact amounts and dates on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from relance.cashapp import services
from relance.ledger import services as ledger
from tests.factories import DocumentFactory


def test_the_book_holds_open_invoices_with_exact_amounts(world):
    alice = world.customers["c_par_alice"]
    doc = DocumentFactory(customer=alice, number="FA-9-0001", amount=Decimal("1234.56"), issue_date=dt.date(2026, 5, 1))
    paid = DocumentFactory(customer=alice, number="FA-9-0002", amount=Decimal("80.10"), tax_amount=Decimal("13.35"),
                           issue_date=dt.date(2026, 5, 2))  # fmt: skip
    payment, _ = ledger.payment_upsert(actor="cli", company=world.fr, customer=alice, reference="P-9",
                                       date=dt.date(2026, 6, 1), currency="EUR", amount="114.66")  # fmt: skip
    ledger.allocation_create(actor="cli", target=doc, payment=payment, amount="34.56", date=dt.date(2026, 6, 1))
    ledger.allocation_create(actor="cli", target=paid, payment=payment, amount="80.10", date=dt.date(2026, 6, 1))
    book = services.book_for(world.fr)
    item = book.items[doc.pk]
    assert item.open_amount == Decimal("1200.00") and item.amount == Decimal("1234.56")
    assert isinstance(item.open_amount, Decimal) and item.issue_date == dt.date(2026, 5, 1)
    assert item.due_date == doc.due_date and item.number == "FA-9-0001" and item.customer_id == alice.pk
    assert paid.pk not in book.items  # settled
    assert doc.pk in book.by_customer[alice.pk] and doc.pk in book.by_key["FA90001"]
    before = services.book_for(world.fr, before_payments=True)
    assert before.items[doc.pk].open_amount == Decimal("1234.56") and before.items[paid.pk].open_amount == Decimal(
        "80.10"
    )


def test_the_cycle_collector_is_paused_only_while_a_book_is_built_and_restored_after():
    import gc

    assert gc.isenabled()
    with services.gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with services.gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
