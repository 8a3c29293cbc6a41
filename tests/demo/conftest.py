"""One small demo group per test module, generated once and rolled back at the end of the module."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from relance.demo.generator import Options, Summary, generate

AS_OF = dt.date(2026, 6, 30)
SMALL = Options(customers=60, invoices=3_000, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Summary:
    """The demo group for SMALL options; tests using it also take ``db`` (their own savepoint inside)."""
    with django_db_blocker.unblock(), transaction.atomic():
        summary = generate(SMALL)
        yield summary
        transaction.set_rollback(True)
