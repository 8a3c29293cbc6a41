"""The hand-computed example of docs/kpi.md, as pure values (shared by the domain and SQL tests).

Group currency EUR; 1 EUR = 0.85 GBP. Customer 1 (EUR, risk class B), customer 2 (GBP, risk class D).

* I1 invoice 1000 EUR, issued 05-01, due 05-31; P1 (1000 EUR, 06-10) pays 400 of it: 600 open, 30 days late.
* I2 invoice 500 EUR, issued 06-15, due 07-15: not due; disputed since 06-25.
* C1 credit note 100 EUR, issued and due 06-20, unapplied: −100 in 1-30.
* I3 invoice 300 EUR, issued 01-10, due 02-09; P3 (300 EUR, 03-01) settled it, the bank returned P3 on
  03-15 and the allocation was reversed that day: 300 open, 141 days past due.
* I4 invoice 850 GBP, issued 03-01, due 03-31; C2 (85 GBP credit note, 04-15) and P2 (170 GBP, 04-20)
  applied: 595 GBP open = 700 EUR, 91 days past due.
* D1 deposit 170 GBP (200 EUR) received 06-01, unapplied.
"""

import datetime as dt
from decimal import Decimal as D

from relance.analytics.domain import Alloc, Doc, Pay

AS_OF = dt.date(2026, 6, 30)
RATES = {"EUR": D(1), "GBP": D("0.85")}
d = dt.date

DOCS = [
    Doc(
        1,
        1,
        "invoice",
        d(2026, 5, 1),
        d(2026, 5, 31),
        "EUR",
        D("1000.00"),
        "B",
        disputed=((d(2026, 6, 1), d(2026, 6, 20)),),
    ),
    Doc(2, 1, "invoice", d(2026, 6, 15), d(2026, 7, 15), "EUR", D("500.00"), "B", disputed=((d(2026, 6, 25), None),)),
    Doc(3, 1, "credit_note", d(2026, 6, 20), d(2026, 6, 20), "EUR", D("100.00"), "B"),
    Doc(4, 1, "invoice", d(2026, 1, 10), d(2026, 2, 9), "EUR", D("300.00"), "B"),
    Doc(5, 2, "invoice", d(2026, 3, 1), d(2026, 3, 31), "GBP", D("850.00"), "D"),
    Doc(6, 2, "credit_note", d(2026, 4, 15), d(2026, 4, 15), "GBP", D("85.00"), "D"),
]
PAYMENTS = [
    Pay(1, "payment", d(2026, 6, 10), "EUR", D("1000.00")),
    Pay(2, "payment", d(2026, 4, 20), "GBP", D("170.00")),
    Pay(3, "payment", d(2026, 3, 1), "EUR", D("300.00"), returned_on=d(2026, 3, 15)),
    Pay(4, "deposit", d(2026, 6, 1), "GBP", D("170.00")),
]
ALLOCS = [
    Alloc(1, D("400.00"), d(2026, 6, 10), payment_id=1),
    Alloc(5, D("85.00"), d(2026, 4, 15), credit_note_id=6),
    Alloc(5, D("170.00"), d(2026, 4, 20), payment_id=2),
    Alloc(4, D("300.00"), d(2026, 3, 1), payment_id=3, reversed_on=d(2026, 3, 15)),
    Alloc(4, D("-300.00"), d(2026, 3, 15), payment_id=3, is_reversal=True),
]
