"""Exports respect the scope, and the aged balance adds up by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from relance.analytics import exports
from relance.analytics.aging import aged_balance
from relance.core import scope
from relance.ledger import services
from tests.conftest import EXPECTED_SCOPE, TODAY


def refs_in(export):
    return {row[1] for row in export.rows}


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
@pytest.mark.parametrize("kind", sorted(exports.EXPORTS))
def test_each_export_holds_exactly_the_users_scope(world, user_key, kind):
    export = exports.EXPORTS[kind](world.users[user_key], as_of=TODAY)
    expected = {world.customers[k].reference for k in world.visible_to(user_key)}
    assert refs_in(export) == expected


def test_aged_balance_by_hand_with_partials_credit_notes_and_two_currencies(world):
    fr, c = world.fr, world.customers["c_par_alice"]  # INV-PAR001: 1200.00 due 2026-05-01 (60 days at TODAY)

    def doc(number, due, amount, type_="invoice", currency="EUR"):
        d, _ = services.document_upsert(
            actor="t",
            company=fr,
            customer=c,
            number=number,
            type=type_,
            issue_date=due - dt.timedelta(days=30) if type_ == "invoice" else due,
            due_date=due,
            currency=currency,
            amount=amount,
        )
        return d

    doc("F-NOTDUE", TODAY + dt.timedelta(days=10), "500.00")
    partly = doc("F-10DAYS", TODAY - dt.timedelta(days=10), "300.00")
    services.allocation_create(
        actor="t", target=partly, payment=world.payments["c_par_alice"], amount="100.00", date=TODAY
    )
    doc("A-CREDIT", TODAY - dt.timedelta(days=5), "50.00", type_="credit_note")
    doc("F-OLD", TODAY - dt.timedelta(days=200), "80.00")
    doc("F-USD", TODAY - dt.timedelta(days=95), "70.00", currency="USD")
    rows = {(r.customer_ref, r.currency): r for r in aged_balance(world.users["admin"], as_of=TODAY)}
    eur = rows[("PAR001", "EUR")].buckets
    assert eur == {
        "not_due": Decimal("500.00"),
        "1-30": Decimal("150.00"),
        "31-60": Decimal("1200.00"),
        "61-90": Decimal("0.00"),
        "91-180": Decimal("0.00"),
        "181+": Decimal("80.00"),
    }
    assert rows[("PAR001", "EUR")].total == Decimal("1930.00")
    assert rows[("PAR001", "USD")].buckets["91-180"] == Decimal("70.00")


def test_csv_and_xlsx_files_from_the_command_line(world, tmp_path):
    out = tmp_path / "aged.xlsx"
    call_command("export", "aged-balance", "--out", str(out), "--user", "bob@example.com", stdout=io.StringIO())
    sheet = load_workbook(out).active
    values = list(sheet.values)
    assert values[0][:4] == ("company", "customer_ref", "customer_name", "currency")
    assert [v[1] for v in values[1:]] == ["LYO001"]
    assert values[1][-1] == 1200  # a number cell, not text
    buf = io.StringIO()
    call_command("export", "open-items", stdout=buf)
    rows = list(csv.reader(io.StringIO(buf.getvalue().lstrip("\ufeff"))))
    assert rows[0][3] == "number" and len(rows) == 1 + 5  # the system operator sees the group


def test_the_operator_actor_sees_the_group(world):
    assert scope.restrict(scope.SystemActor(), world.fr.customers.all()).count() == 3
