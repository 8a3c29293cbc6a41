"""Tasks, write-offs (small residuals, bad debts with approval, reversal), provisions; SMS through the fake."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.channels import sms
from relance.collections import cycle, work
from relance.collections.models import Activity, Provision
from relance.core import audit, errors
from relance.ledger import services as ledger
from relance.ledger.models import Allocation

from ..conftest import TODAY
from ..factories import ContactFactory, CustomerFactory


def residual(world, amount="3.50"):
    doc = world.documents["c_par_alice"]
    doc.open_amount = Decimal(amount)
    doc.save()
    return doc


def test_a_small_residual_is_written_off_and_can_be_reversed(world):
    doc = residual(world)
    alloc = work.write_off(actor=world.users["collector_alice"], document=doc, reason="rounding")
    doc.refresh_from_db()
    assert doc.open_amount == 0 and alloc.source == "write_off" and alloc.amount == Decimal("3.50")
    assert Activity.objects.get(kind="write_off").data["bad_debt"] is False
    work.write_off_reverse(actor=world.users["collector_alice"], allocation=alloc, reason="paid after all")
    doc.refresh_from_db()
    assert doc.open_amount == Decimal("3.50")
    assert Allocation.objects.filter(reverses=alloc).exists()


def test_a_bad_debt_needs_approval_by_a_credit_manager(world):
    doc = world.documents["c_par_alice"]
    with pytest.raises(errors.ValidationError, match="needs a credit manager's approval"):
        work.write_off(actor=world.users["collector_alice"], document=doc, reason="insolvent")
    with pytest.raises(errors.PermissionDenied):
        work.write_off(actor=world.users["collector_alice"], document=doc, reason="insolvent", approve=True)
    work.write_off(actor=world.users["credit_manager"], document=doc, reason="insolvent", approve=True)
    doc.refresh_from_db()
    assert doc.open_amount == 0


def test_provisions_are_rows_with_their_movement(world):
    doc = world.documents["c_par_alice"]  # 1200 incl. 200 tax
    cm = world.users["credit_manager"]
    first = work.provision_set(actor=cm, document=doc, rate=Decimal("0.5"), reason="doubtful")
    assert first.amount == Decimal("500.00") and first.previous_amount == 0
    second = work.provision_set(actor=cm, document=doc, rate=Decimal("0"), reason="released")
    assert second.amount == 0 and second.previous_amount == Decimal("500.00")
    assert Provision.objects.count() == 2
    with pytest.raises(errors.PermissionDenied):
        work.provision_set(actor=world.users["collector_alice"], document=doc, rate=Decimal("1"))
    with pytest.raises(errors.ValidationError, match="between 0 and 1"):
        work.provision_set(actor=cm, document=doc, rate=Decimal("2"))


def test_task_done_once(world):
    task = work.task_create(
        actor=audit.SYSTEM, customer=world.customers["c_par_alice"], kind="call", title="Call", due_on=TODAY
    )
    assert task.assignee == world.users["collector_alice"]
    work.task_done(actor=world.users["collector_alice"], task=task)
    with pytest.raises(errors.ValidationError, match="already done"):
        work.task_done(actor=world.users["collector_alice"], task=task)


def test_sms_steps_go_through_the_gateway_or_fall_back_to_a_letter(world, tmp_path):
    from relance.collections import rules

    text = rules.rulebook.default_text().replace(
        "{key: first_reminder, day: 1, channel: email, template: reminder, tone: neutral}",
        "{key: first_reminder, day: 1, channel: sms}",
        1,
    )
    rules.rulebook_load(actor=audit.SYSTEM, text=text)
    cust = CustomerFactory(company=world.fr, reference="SMS1", name="Texto SARL")
    ContactFactory(customer=cust, email="ap@texto.example", phone="+33600000000")
    ledger.document_upsert(
        actor=audit.SYSTEM,
        company=world.fr,
        customer=cust,
        number="T-1",
        issue_date=TODAY - dt.timedelta(days=30),
        due_date=TODAY - dt.timedelta(days=2),
        currency="EUR",
        amount="80.00",
    )
    fake = sms.FakeGateway()
    sms.install(fake)
    try:
        result = cycle.cycle_run(as_of=TODAY)
    finally:
        sms.install(None)
    (action,) = [a for a in result.actions if a["customer_ref"] == "SMS1"]
    assert (action["channel"], action["status"]) == ("sms", "sent")
    (to, message, ref) = fake.sent[0]
    assert to == "+33600000000" and "80.00 EUR" in message and ref == action["reference"]
