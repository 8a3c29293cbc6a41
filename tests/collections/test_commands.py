"""Letters printed in batch, small balances written off, the interest statement — from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

from django.core.management import call_command
from pypdf import PdfReader

from relance.collections import cycle
from relance.collections.models import ActionStatus, DunningAction
from relance.core import audit
from relance.ledger import services as ledger

from ..conftest import TODAY
from ..factories import CustomerFactory


def letter_customer(world, ref: str, days_late: int = 2, amount: str = "50.00"):
    cust = CustomerFactory(company=world.fr, reference=ref, name=f"{ref} SARL", language="fr")
    doc, _ = ledger.document_upsert(
        actor=audit.SYSTEM,
        company=world.fr,
        customer=cust,
        number=f"{ref}-1",
        issue_date=TODAY - dt.timedelta(days=40),
        due_date=TODAY - dt.timedelta(days=days_late),
        currency="EUR",
        amount=amount,
    )
    return cust, doc


def test_letters_are_printed_in_one_pdf_once(world, tmp_path: Path, capsys):
    letter_customer(world, "LA")
    letter_customer(world, "LB")
    cycle.cycle_run(as_of=TODAY)
    out = tmp_path / "letters.pdf"
    call_command("letters", "--out", str(out), "--json")
    result = json.loads(capsys.readouterr().out)
    queued = DunningAction.objects.filter(channel="letter")
    assert result["letters"] == queued.count() >= 2
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "LA-1" in text and "LB-1" in text
    assert set(queued.values_list("status", flat=True)) == {ActionStatus.PRINTED}
    call_command("letters", "--out", str(out), "--json")
    assert json.loads(capsys.readouterr().out)["letters"] == 0


def test_small_residuals_are_written_off(world, capsys):
    cust, doc = letter_customer(world, "RES", days_late=40, amount="100.00")
    payment, _ = ledger.payment_upsert(
        actor=audit.SYSTEM,
        company=world.fr,
        customer=cust,
        reference="P-RES",
        date=TODAY,
        currency="EUR",
        amount="96.00",
    )
    ledger.allocation_create(actor=audit.SYSTEM, target=doc, amount="96.00", date=TODAY, payment=payment)
    call_command("writeoff", "--dry-run", "--json")
    assert json.loads(capsys.readouterr().out)["written_off"] == [
        {"number": "RES-1", "amount": "4.00", "currency": "EUR"}
    ]
    doc.refresh_from_db()
    assert doc.open_amount == Decimal("4.00")
    call_command("writeoff", "--json")
    doc.refresh_from_db()
    assert doc.open_amount == 0


def test_interest_statement_command(world, capsys):
    letter_customer(world, "INT", days_late=30, amount="1000.00")
    call_command("interest", "--customer", "INT", "--json")
    out = json.loads(capsys.readouterr().out)
    kinds = [(x["number"], x["kind"]) for x in out["lines"]]
    assert kinds == [("INT-1", "interest"), ("INT-1", "indemnity")]
    # 2026 H1: 12.15 %; 30 days on 1000 → 9.99
    assert out["lines"][0]["amount"] == "9.99" and out["total"] == "49.99"
