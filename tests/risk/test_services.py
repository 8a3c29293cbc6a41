"""Risk services: four-eyes limits, blocks, ERP orders, settings, the rescore command."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from relance.core import errors
from relance.core.models import AuditEntry
from relance.risk import services
from relance.risk.models import CustomerRisk, Order, RiskSettings


def test_a_limit_under_the_four_eyes_amount_is_active_at_once_and_audited(world):
    customer = world.customers["c_par_alice"]
    limit = services.limit_grant(
        actor=world.users["credit_manager"],
        customer=customer,
        amount="20000",
        expires_on=dt.date(2026, 12, 31),
        note="Annual review",
    )
    assert limit.status == "active"
    risk = CustomerRisk.objects.get(customer=customer)
    assert (risk.granted_limit, risk.granted_expires_on, risk.granted_note) == (
        Decimal("20000.000"),
        dt.date(2026, 12, 31),
        "Annual review",
    )
    assert AuditEntry.objects.filter(action="risk.limit_grant", customer_id=customer.pk).count() == 1


def test_a_large_limit_waits_for_a_second_approver_who_is_someone_else(world):
    customer = world.customers["c_par_alice"]
    cm, admin = world.users["credit_manager"], world.users["admin"]
    limit = services.limit_grant(actor=cm, customer=customer, amount="80000")
    assert limit.status == "pending"
    assert not CustomerRisk.objects.filter(customer=customer, granted_limit__isnull=False).exists()
    with pytest.raises(errors.PermissionDenied, match="someone other than"):
        services.limit_approve(actor=cm, limit=limit)
    services.limit_approve(actor=admin, limit=limit)
    assert CustomerRisk.objects.get(customer=customer).granted_limit == Decimal("80000")
    limit.refresh_from_db()
    assert (limit.status, limit.approved_by) == ("active", admin)
    newer = services.limit_grant(actor=cm, customer=customer, amount="1000")
    limit.refresh_from_db()
    assert (limit.status, newer.status) == ("superseded", "active")


@pytest.mark.parametrize("role", ["collector_alice", "sales_rep_sam", "auditor", "agency_manager_par"])
def test_only_credit_managers_and_admins_grant_limits(world, role):
    with pytest.raises(errors.PermissionDenied):
        services.limit_grant(actor=world.users[role], customer=world.customers["c_par_alice"], amount="10")


def test_a_credit_manager_of_another_company_cannot_grant(world):
    with pytest.raises(errors.NotFound):
        services.limit_grant(
            actor=world.users["credit_manager_uk"], customer=world.customers["c_par_alice"], amount="10"
        )


def test_block_and_unblock_are_audited(world):
    customer = world.customers["c_lyo_bob"]
    services.customer_block(actor=world.users["credit_manager"], customer=customer, blocked=True, reason="Cheques")
    assert CustomerRisk.objects.get(customer=customer).blocked
    services.customer_block(actor=world.users["credit_manager"], customer=customer, blocked=False)
    assert not CustomerRisk.objects.get(customer=customer).blocked
    assert AuditEntry.objects.filter(action__in=["risk.block", "risk.unblock"]).count() == 2


def test_an_order_upsert_is_idempotent(world):
    args = dict(
        actor=world.users["admin"],
        company=world.fr,
        customer=world.customers["c_par_alice"],
        reference="SO-9",
        order_date=dt.date(2026, 6, 29),
        amount="1500.00",
        currency="EUR",
    )
    assert services.order_upsert(**args)[1] == "created"
    assert services.order_upsert(**args)[1] == "unchanged"
    assert services.order_upsert(**{**args, "status": "invoiced"})[1] == "updated"
    assert Order.objects.get().status == "invoiced"


def test_settings_are_validated_before_anything_is_stored(world, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"weights": {"astrology": 3}}))
    with pytest.raises(CommandError, match="weights.astrology"):
        call_command("risk", "settings", "--set", str(bad), stdout=io.StringIO())
    assert not RiskSettings.objects.exists()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"classes": {"A": 85}}))
    out = io.StringIO()
    call_command("risk", "settings", "--set", str(good), "--json", stdout=out)
    assert json.loads(out.getvalue())["classes"]["A"] == 85


def test_the_rescore_command_reports_json(world):
    out = io.StringIO()
    call_command("risk", "rescore", "--all", "--json", stdout=out, stderr=io.StringIO())
    data = json.loads(out.getvalue())
    assert data["mode"] == "all" and data["considered"] == 5 and data["changed"] == 5
    out = io.StringIO()
    call_command("risk", "rescore", "--json", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["changed"] == 0


def test_the_customer_export_to_the_erp_carries_score_limits_and_block(world):
    from relance.analytics.exports import customers_export
    from relance.risk import scoring

    scoring.rescore(as_of=dt.date(2026, 6, 30), full=True)
    bob = world.customers["c_lyo_bob"]
    services.customer_block(actor=world.users["credit_manager"], customer=bob, blocked=True, reason="Cheques returned")
    services.limit_grant(actor=world.users["credit_manager"], customer=bob, amount="3000")
    export = customers_export(world.users["admin"], as_of=dt.date(2026, 6, 30))
    rows = [dict(zip(export.headers, row, strict=True)) for row in export.rows]
    row = next(r for r in rows if r["customer_ref"] == "LYO001")
    assert (row["blocked"], row["blocked_reason"], str(row["credit_limit_granted"])) == (
        True,
        "Cheques returned",
        "3000.00",
    )
    assert row["score"] == CustomerRisk.objects.get(customer=bob).score
    assert all(r["blocked"] is False for r in rows if r["customer_ref"] != "LYO001")
