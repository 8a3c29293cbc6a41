"""The demo group: a believable ledger whose invariants hold exactly (60 customers, 3,000 invoices)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from statistics import mean

import pytest
from django.db.models import Count, F, Max, Q
from django.test import Client

from relance.collections.models import Dispute, DisputeStatus
from relance.core import identifiers
from relance.core.models import AuditEntry
from relance.core.money import Money
from relance.core.vocab import DocumentType, PayerProfile, PaymentKind, Role
from relance.demo import DEMO_PASSWORD
from relance.ledger import selectors
from relance.ledger.models import Allocation, Contact, Customer, Document, ExchangeRate, LegalEntity, Payment
from relance.ledger.rates import convert
from relance.orgs.models import BankAccount, Company, Group, User

from .conftest import AS_OF, SMALL

pytestmark = pytest.mark.django_db

INVOICE, CREDIT_NOTE = DocumentType.INVOICE, DocumentType.CREDIT_NOTE


def test_the_ledger_invariants_hold_after_generation(demo):
    assert selectors.check_invariants() == []


def test_the_summary_counts_what_is_in_the_database(demo):
    db = selectors.counts()
    assert demo.counts["customers"] == db["customers"] == SMALL.customers
    assert demo.counts["invoices"] == Document.objects.filter(type=INVOICE).count() == SMALL.invoices
    assert demo.counts["documents"] == db["documents"]
    assert demo.counts["payments"] == db["payments"]
    assert demo.counts["allocations"] == db["allocations"]
    assert demo.counts["disputes"] == Dispute.objects.count()


def test_the_group_has_three_companies_in_two_countries_and_two_currencies(demo):
    assert Group.objects.get().name == "Relance Demo Group"
    companies = Company.objects.all()
    assert companies.count() == 3
    assert {c.country for c in companies} == {"FR", "GB"}
    assert {c.currency for c in companies} == {"EUR", "GBP"}
    assert sorted(c.currency for c in companies if c.country == "FR") == ["EUR", "EUR"]


def test_company_identifiers_and_bank_accounts_are_valid(demo):
    for company in Company.objects.all():
        assert identifiers.validate_vat(company.vat_number) == company.vat_number
        if company.country == "FR":
            assert identifiers.validate_siren(company.siren) == company.siren
            assert identifiers.validate_siret(company.siret).startswith(company.siren)
        account = BankAccount.objects.get(company=company)
        assert identifiers.validate_iban(account.iban) == account.iban
        assert account.iban.startswith(company.country)
        assert identifiers.validate_bic(account.bic)


def test_customer_identifiers_are_valid_and_shared_sirens_are_one_legal_entity(demo):
    for customer in Customer.objects.exclude(siren=""):
        assert identifiers.validate_siren(customer.siren)
        assert customer.siret.startswith(customer.siren)
        identifiers.validate_siret(customer.siret)
        identifiers.validate_vat(customer.vat_number)
        assert customer.legal_entity.key == f"SIREN:{customer.siren}"
    for customer in Customer.objects.filter(country__in=["GB", "IE"], kind="business"):
        identifiers.validate_vat(customer.vat_number)
    shared = LegalEntity.objects.annotate(n=Count("accounts")).filter(n__gt=1)
    assert shared.exists()
    for entity in shared:
        codes = sorted(entity.accounts.values_list("company__code", flat=True))
        assert codes == ["FR1", "FR2"]
        assert entity.key.startswith("SIREN:")


def test_customers_have_a_collector_a_sales_rep_and_one_main_accounts_payable_contact(demo):
    customers = Customer.objects.all()
    assert not customers.filter(Q(collector__isnull=True) | Q(sales_rep__isnull=True)).exists()
    mains = Contact.objects.filter(is_main_ap=True).values("customer").annotate(n=Count("pk"))
    assert {m["n"] for m in mains} == {1}
    assert len(mains) == customers.count()
    assert customers.filter(kind="consumer").exists() and customers.filter(kind="business").exists()
    assert set(customers.values_list("language", flat=True)) == {"fr", "en"}
    assert customers.filter(strategic=True).exists()
    assert customers.exclude(sector_code="").count() >= customers.filter(kind="business").count()
    assert not Customer.objects.exclude(agency=None).exclude(agency__company=F("company")).exists()


def test_every_payer_profile_is_present_and_one_account_looks_like_receivership(demo):
    profiles = set(Customer.objects.values_list("payer_profile", flat=True))
    assert profiles == set(PayerProfile.values)
    assert "receivership_like" in demo.highlights
    reference = demo.highlights["receivership_like"].split()[1]
    receivership = Customer.objects.get(company__code="FR1", reference=reference)
    assert receivership.payer_profile == PayerProfile.DEFAULTING
    overdue = Document.objects.filter(customer=receivership, open_amount__gt=0, due_date__lt=AS_OF)
    assert overdue.count() >= 3
    last_payment = Payment.objects.filter(customer=receivership).aggregate(d=Max("date"))["d"]
    assert last_payment is None or last_payment < AS_OF - dt.timedelta(days=90)


def _days_late(profile: str, first: dt.date, last: dt.date) -> list[int]:
    """Days between due date and settlement (or as-of, while open) of the profile's invoices due in [first, last]."""
    rows = Document.objects.filter(
        customer__payer_profile=profile, type=INVOICE, due_date__gte=first, due_date__lte=last
    ).values_list("due_date", "settled_on")
    return [((settled or AS_OF) - due).days for due, settled in rows]


def test_deteriorating_payers_are_on_time_at_first_and_weeks_late_lately(demo):
    start = AS_OF.replace(year=AS_OF.year - 3)
    first_year = _days_late(PayerProfile.DETERIORATING, start, start + dt.timedelta(days=365))
    last_months = _days_late(PayerProfile.DETERIORATING, AS_OF - dt.timedelta(days=182), AS_OF)
    assert len(first_year) > 20 and len(last_months) > 10
    assert mean(first_year) < 7
    assert mean(last_months) > mean(first_year) + 14


def test_profiles_pay_as_their_names_say(demo):
    start = AS_OF.replace(year=AS_OF.year - 3)
    two_years = (start, AS_OF - dt.timedelta(days=365))
    prompt = mean(_days_late(PayerProfile.PROMPT, *two_years))
    slow = mean(_days_late(PayerProfile.SLOW_STEADY, *two_years))
    assert -5 < prompt < 7
    assert 14 <= slow <= 35
    defaulting_open = Document.objects.filter(
        customer__payer_profile=PayerProfile.DEFAULTING, type=INVOICE, open_amount__gt=0, due_date__lt=AS_OF
    )
    assert defaulting_open.count() > 10


def test_invoices_have_20_percent_vat_due_dates_from_terms_and_amounts_in_cents(demo):
    invoices = Document.objects.filter(type=INVOICE).select_related("customer")
    for doc in invoices[:500]:
        assert doc.due_date - doc.issue_date == dt.timedelta(days=doc.customer.payment_terms_days)
        assert doc.amount == doc.amount.quantize(Decimal("0.01"))
        net = doc.amount - doc.tax_amount
        if doc.customer.country == "IE":
            assert doc.tax_amount == 0
        else:
            assert doc.tax_amount == (net * Decimal("0.2")).quantize(Decimal("0.01"))
    issued = invoices.aggregate(first=Max("issue_date"))
    assert issued["first"] <= AS_OF


def test_each_company_invoices_in_its_currency_and_each_customer_in_one(demo):
    per_customer = Document.objects.values("customer").annotate(n=Count("currency", distinct=True))
    assert {row["n"] for row in per_customer} == {1}
    assert set(Document.objects.filter(company__code__in=["FR1", "FR2"]).values_list("currency", flat=True)) == {"EUR"}
    assert "GBP" in set(Document.objects.filter(company__code="UK1").values_list("currency", flat=True))


def test_settled_documents_are_dated_by_their_last_allocation(demo):
    last = dict(Allocation.objects.values_list("target").annotate(d=Max("date")))
    last_cn = dict(
        Allocation.objects.filter(credit_note__isnull=False).values_list("credit_note").annotate(d=Max("date"))
    )
    for doc in Document.objects.filter(open_amount=0):
        assert doc.settled_on == (last if doc.type == INVOICE else last_cn)[doc.pk]
    assert not Document.objects.filter(open_amount__gt=0, settled_on__isnull=False).exists()


def test_allocations_never_mix_customers_or_currencies(demo):
    assert not Allocation.objects.exclude(customer=F("target__customer")).exists()
    for alloc in Allocation.objects.select_related("payment", "credit_note", "target")[:2000]:
        source = alloc.payment or alloc.credit_note
        assert source.customer_id == alloc.customer_id
        assert source.currency == alloc.currency == alloc.target.currency
        assert alloc.date >= alloc.target.issue_date or alloc.payment and alloc.payment.kind == PaymentKind.DEPOSIT


def test_history_spans_three_years_recent_invoices_open_older_ones_settled(demo):
    invoices = Document.objects.filter(type=INVOICE)
    first = invoices.order_by("issue_date").first().issue_date
    assert first <= AS_OF - dt.timedelta(days=3 * 365 - 30)
    old = invoices.filter(issue_date__lt=AS_OF - dt.timedelta(days=365)).exclude(
        customer__payer_profile=PayerProfile.DEFAULTING
    )
    assert old.filter(open_amount=0).count() / old.count() > 0.97
    assert invoices.filter(open_amount__gt=0, due_date__gte=AS_OF).exists()  # not yet due
    assert invoices.filter(open_amount__gt=0, due_date__lt=AS_OF).exists()  # overdue


def test_credit_notes_deposits_partial_and_grouped_payments_exist(demo):
    corrections = Document.objects.filter(type=CREDIT_NOTE, corrects__isnull=False)
    assert corrections.filter(open_amount=0, allocations_out__target=F("corrects")).exists()
    assert Document.objects.filter(type=CREDIT_NOTE, open_amount__gt=0).exists()  # left open for later use
    deposits = Payment.objects.filter(kind=PaymentKind.DEPOSIT)
    assert deposits.filter(unallocated_amount=0, allocations__isnull=False).exists()
    assert deposits.filter(unallocated_amount__gt=0).exists()
    for deposit in deposits.filter(unallocated_amount=0)[:50]:
        assert deposit.date < deposit.allocations.get().target.issue_date
    partly_paid = Document.objects.filter(type=INVOICE, open_amount__gt=0).filter(
        pk__in=Allocation.objects.filter(payment__isnull=False).values("target")
    )
    assert partly_paid.exists()
    paid_in_installments = (
        Allocation.objects.filter(payment__kind=PaymentKind.PAYMENT).values("target").annotate(n=Count("payment"))
    )
    assert paid_in_installments.filter(n__gt=1).exists()
    assert Payment.objects.annotate(n=Count("allocations")).filter(n__gt=1).exists()
    assert Payment.objects.filter(customer__isnull=True, unallocated_amount__gt=0).exists()  # unidentified cash


def test_disputes_some_open_some_resolved_by_a_credit_note(demo):
    disputes = Dispute.objects.prefetch_related("documents")
    assert disputes.filter(status=DisputeStatus.OPEN, resolved_on__isnull=True).exists()
    resolved = disputes.filter(status=DisputeStatus.RESOLVED_CREDIT_NOTE)
    assert resolved.exists()
    for dispute in resolved:
        (invoice,) = dispute.documents.all()
        assert invoice.corrections.filter(type=CREDIT_NOTE, issue_date=dispute.resolved_on).exists()
    for dispute in disputes.filter(status=DisputeStatus.OPEN):
        (invoice,) = dispute.documents.all()
        assert invoice.open_amount > 0
        assert dispute.customer_id == invoice.customer_id
        assert dispute.owner_id == dispute.customer.collector_id
        assert dispute.message


def test_daily_gbp_rates_are_plausible_and_convert(demo):
    rates = ExchangeRate.objects.filter(base="EUR", currency="GBP", source="demo")
    start = AS_OF.replace(year=AS_OF.year - 3)
    assert rates.filter(date__lte=start).exists() and rates.filter(date=AS_OF).exists()
    assert rates.count() > 3 * 250
    assert all(Decimal("0.83") <= r <= Decimal("0.90") for r in rates.values_list("rate", flat=True))
    euros = convert(Money(Decimal("100.00"), "GBP"), "EUR", AS_OF)
    assert Decimal("110") < euros.amount < Decimal("121")


def test_users_of_every_role_log_in_with_the_demo_password(demo):
    roles = defaultdict(list)
    for user in User.objects.filter(email__endswith="@demo.relance.test"):
        roles[user.role].append(user)
    assert set(roles) == set(Role.values)
    assert len(roles[Role.COLLECTOR]) >= 2 and len(roles[Role.SALES_REP]) >= 2
    for user in User.objects.filter(email__endswith="@demo.relance.test"):
        client = Client()
        assert client.login(username=user.email, password=DEMO_PASSWORD), user.email
    assert {login.role for login in demo.logins} == set(Role.values)
    assert User.objects.get(role=Role.AGENCY_MANAGER).agencies.exists()


def test_collectors_portfolios_follow_their_agencies(demo):
    collector1 = User.objects.get(email="collector1@demo.relance.test")
    seen = selectors.customers(collector1)
    assert seen.exists()
    assert set(seen.values_list("company__code", flat=True)) == {"FR1"}
    manager = User.objects.get(role=Role.AGENCY_MANAGER)
    assert set(selectors.customers(manager).values_list("agency__code", flat=True)) == {"PAR"}


def test_one_audit_row_summarises_the_ledger_and_none_per_row(demo):
    generation = AuditEntry.objects.filter(action="demo.generate")
    assert generation.count() == 1
    assert generation.get().changes["counts"]["invoices"] == SMALL.invoices
    assert not AuditEntry.objects.filter(action__in=["document.create", "payment.create", "allocation.create"]).exists()
    assert AuditEntry.objects.filter(action="company.create").count() == 3
