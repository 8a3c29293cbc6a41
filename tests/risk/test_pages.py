"""Risk pages per role: the customer's risk section and credit check, limits, block, inbox, claims, PDFs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.alerts import services as alerts
from relance.alerts.models import Alert
from relance.ledger.models import Customer, LegalEntity
from relance.risk import jobs, scoring
from relance.risk.models import Claim, CreditLimit, CustomerRisk, LegalEvent

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def scored(world):
    scoring.rescore(as_of=AS_OF, full=True)
    return world


def test_the_customer_page_shows_score_reasons_limits_and_the_credit_check(scored, client_for):
    alice = scored.customers["c_par_alice"]
    CustomerRisk.objects.filter(customer=alice).update(granted_limit=Decimal("10000"), risk_class="B")
    page = client_for("sales_rep_sam").get(
        f"/customers/{alice.pk}/", {"check_amount": "1000", "check_currency": "EUR", "check_terms": "30"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="risk"' in html
    assert 'data-testid="risk-reasons"' in html and 'data-testid="risk-utilisation"' in html
    assert 'data-decision="approve"' in html
    assert 'data-testid="limit-form"' not in html  # a sales rep does not grant limits


def test_a_credit_manager_grants_a_limit_from_the_page_and_four_eyes_apply(scored, client_for):
    alice = scored.customers["c_par_alice"]
    client = client_for("credit_manager")
    assert 'data-testid="limit-form"' in client.get(f"/customers/{alice.pk}/").content.decode()
    client.post(f"/customers/{alice.pk}/risk/limit/", {"amount": "90000", "note": "Big order"})
    limit = CreditLimit.objects.get(customer=alice)
    assert limit.status == "pending"
    client.post(f"/risk/limits/{limit.pk}/decide/", {"decision": "approve"})
    limit.refresh_from_db()
    assert limit.status == "pending"  # the same person cannot approve
    client_for("admin").post(f"/risk/limits/{limit.pk}/decide/", {"decision": "approve"})
    limit.refresh_from_db()
    assert limit.status == "active"


def test_a_collector_cannot_grant_or_block(scored, client_for):
    alice = scored.customers["c_par_alice"]
    client = client_for("collector_alice")
    assert client.post(f"/customers/{alice.pk}/risk/limit/", {"amount": "100"}).status_code == 403
    assert client.post(f"/customers/{alice.pk}/risk/block/", {"blocked": "1"}).status_code == 403
    assert client_for("collector_bob").post(f"/customers/{alice.pk}/risk/block/", {"blocked": "1"}).status_code == 404


def test_blocked_customers_are_listed_within_scope(scored, client_for):
    bob = scored.customers["c_lyo_bob"]
    client_for("credit_manager").post(f"/customers/{bob.pk}/risk/block/", {"blocked": "1", "reason": "Cheques"})
    assert CustomerRisk.objects.get(customer=bob).blocked
    assert "LYO001" in client_for("credit_manager").get("/risk/blocked/").content.decode()
    assert "LYO001" not in client_for("collector_alice").get("/risk/blocked/").content.decode()


def test_the_inbox_lists_the_alerts_of_the_scope_and_handles_them(scored, client_for):
    alice = scored.customers["c_par_alice"]
    alert, _ = alerts.alert_raise(kind="risk.limit_overrun", company=scored.fr, customer=alice,
                                  title="Exposure above the limit", as_of=AS_OF)  # fmt: skip
    assert "Exposure above the limit" in client_for("collector_alice").get("/alerts/").content.decode()
    assert "Exposure above the limit" not in client_for("collector_bob").get("/alerts/").content.decode()
    assert client_for("collector_bob").get(f"/alerts/{alert.pk}/").status_code == 404
    client = client_for("collector_alice")
    client.post(f"/alerts/{alert.pk}/", {"action": "acknowledge"})
    client.post(f"/alerts/{alert.pk}/", {"action": "comment", "text": "Called the CFO"})
    client.post(f"/alerts/{alert.pk}/", {"action": "assign", "user": scored.users["collector_alice"].pk})
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.assigned_to == scored.users["collector_alice"]
    assert "Called the CFO" in client.get(f"/alerts/{alert.pk}/").content.decode()
    assert client_for("auditor").post(f"/alerts/{alert.pk}/", {"action": "acknowledge"}).status_code == 403
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == scored.users["collector_alice"]


def test_claims_page_statement_pdf_and_diagnosis_pdf(scored, client_for):
    alice = scored.customers["c_par_alice"]
    entity = LegalEntity.objects.create(key="SIREN:552100554", name="Atelier", country="FR", siren="552100554")
    Customer.objects.filter(pk=alice.pk).update(legal_entity=entity)
    LegalEvent.objects.create(
        legal_entity=entity,
        kind="liquidation",
        reference="A1",
        published_on=AS_OF,
        judgment_date=AS_OF - dt.timedelta(days=7),
        court="Tribunal de commerce de Paris",
    )
    jobs.run_daily(AS_OF, full=True)
    claim = Claim.objects.get(customer=alice)
    client = client_for("credit_manager")
    assert "PAR001" in client.get("/risk/claims/").content.decode()
    pdf = client.get(f"/risk/claims/{claim.pk}/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    diag = client.get(f"/customers/{alice.pk}/risk/diagnosis.pdf")
    assert diag.status_code == 200 and diag.content.startswith(b"%PDF")
    client.post(f"/risk/claims/{claim.pk}/declare/", {"declared_on": "2026-07-02"})
    claim.refresh_from_db()
    assert claim.declared_on == dt.date(2026, 7, 2)
    assert client_for("collector_bob").get(f"/risk/claims/{claim.pk}/statement.pdf").status_code == 404


def test_the_claim_statement_lists_documents_interest_and_indemnity(scored):
    from relance.channels.pdf import render_html
    from relance.risk import report

    alice = scored.customers["c_par_alice"]
    entity = LegalEntity.objects.create(key="SIREN:552100554", name="Atelier", country="FR", siren="552100554")
    Customer.objects.filter(pk=alice.pk).update(legal_entity=entity)
    event = LegalEvent.objects.create(legal_entity=entity, kind="receivership", reference="A2", published_on=AS_OF,
                                      judgment_date=AS_OF - dt.timedelta(days=3))  # fmt: skip
    claim = Claim.objects.create(customer=alice, legal_event=event, deadline=dt.date(2026, 8, 30))
    context = report.claim_statement(claim, as_of=AS_OF)
    html = render_html("risk/pdf/claim_statement.html", context, language="en")
    assert "INV-PAR001" in html and context["until"] == AS_OF - dt.timedelta(days=3)
    kinds = {line["kind"] for line in context["lines"]}
    assert "indemnity" in kinds  # EUR 40 for the invoice overdue since 2026-05-01
    assert context["totals"]["EUR"] >= Decimal("1240.00")


def test_the_customer_list_shows_class_and_limit_utilisation(scored, client_for):
    alice = scored.customers["c_par_alice"]
    CustomerRisk.objects.filter(customer=alice).update(granted_limit=Decimal("1000"))  # exposure 1,200.00
    html = client_for("admin").get("/customers/").content.decode()
    assert 'data-testid="utilisation">120%' in html
