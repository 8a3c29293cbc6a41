"""Shared fixtures. ``world`` is the standard multi-company set-up every scope test uses."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from relance.core import clock
from relance.core.vocab import Role
from relance.ledger.models import Customer, Document, Payment
from relance.orgs.models import Agency, Company, User

from .factories import (
    AgencyFactory,
    CompanyFactory,
    CustomerFactory,
    DocumentFactory,
    GroupFactory,
    PaymentFactory,
    UserFactory,
)

hypothesis_settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True)
hypothesis_settings.register_profile("dev", max_examples=30, deadline=None)
hypothesis_settings.load_profile("ci")

TODAY = dt.date(2026, 6, 30)


def _shared_data() -> Path:
    """The real sample files: $RELANCE_SHARED_DATA, else shared/data beside the repository, else /work/shared/data."""
    if os.environ.get("RELANCE_SHARED_DATA"):
        return Path(os.environ["RELANCE_SHARED_DATA"])
    beside = Path(__file__).resolve().parents[2] / "shared" / "data"
    return beside if beside.is_dir() else Path("/work/shared/data")


SHARED_DATA = _shared_data()
PASSWORD = "secret-pass-123"


@pytest.fixture(autouse=True)
def _frozen_today():
    """Every test runs on a fixed business date unless it freezes another one."""
    clock.freeze(TODAY)
    yield
    clock.freeze(None)


@dataclass
class World:
    """Two companies (FR1 in EUR with agencies PAR and LYO, UK1 in GBP), users of every role, customers.

    Customer names tell where they are: ``c_par_alice`` is in agency PAR, collector alice, sales rep sam.
    """

    fr: Company
    uk: Company
    par: Agency
    lyo: Agency
    users: dict[str, User] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    unidentified: Payment | None = None

    def visible_to(self, key: str) -> set[str]:
        """The customer keys the user ``key`` must see, and only those (the expected scope)."""
        return set(EXPECTED_SCOPE[key])


ALL = ["c_par_alice", "c_lyo_bob", "c_fr_noagency", "c_uk_alice", "c_uk_carol"]
EXPECTED_SCOPE = {
    "admin": ALL,
    "credit_manager": ALL,
    "credit_manager_uk": ["c_uk_alice", "c_uk_carol"],
    "auditor": ALL,
    "collector_alice": ["c_par_alice", "c_uk_alice"],
    "collector_carol_fr": ["c_fr_noagency"],
    "collector_bob": ["c_lyo_bob"],
    "sales_rep_sam": ["c_par_alice", "c_fr_noagency"],
    "agency_manager_par": ["c_par_alice"],
    "agency_manager_none": [],
}


@pytest.fixture
def world(db) -> World:
    group = GroupFactory(name="Demo group")
    fr = CompanyFactory(group=group, code="FR1", name="Relance France", country="FR", currency="EUR")
    uk = CompanyFactory(group=group, code="UK1", name="Relance UK", country="GB", currency="GBP")
    par = AgencyFactory(company=fr, code="PAR", name="Paris")
    lyo = AgencyFactory(company=fr, code="LYO", name="Lyon")
    w = World(fr=fr, uk=uk, par=par, lyo=lyo)
    u = w.users
    u["admin"] = UserFactory(email="admin@example.com", role=Role.ADMIN)
    u["credit_manager"] = UserFactory(email="cm@example.com", role=Role.CREDIT_MANAGER)
    u["credit_manager_uk"] = UserFactory(email="cm-uk@example.com", role=Role.CREDIT_MANAGER, companies=[uk])
    u["auditor"] = UserFactory(email="auditor@example.com", role=Role.AUDITOR)
    u["collector_alice"] = UserFactory(email="alice@example.com", role=Role.COLLECTOR)
    # carol's portfolio spans both companies, but her scope is narrowed to FR1
    u["collector_carol_fr"] = UserFactory(email="carol@example.com", role=Role.COLLECTOR, companies=[fr])
    u["collector_bob"] = UserFactory(email="bob@example.com", role=Role.COLLECTOR)
    u["sales_rep_sam"] = UserFactory(email="sam@example.com", role=Role.SALES_REP)
    u["agency_manager_par"] = UserFactory(email="am-par@example.com", role=Role.AGENCY_MANAGER, agencies=[par])
    u["agency_manager_none"] = UserFactory(email="am-none@example.com", role=Role.AGENCY_MANAGER)
    c = w.customers
    c["c_par_alice"] = CustomerFactory(
        company=fr,
        reference="PAR001",
        name="Atelier Paris",
        agency=par,
        collector=u["collector_alice"],
        sales_rep=u["sales_rep_sam"],
    )
    c["c_lyo_bob"] = CustomerFactory(
        company=fr, reference="LYO001", name="Boulangerie Lyon", agency=lyo, collector=u["collector_bob"]
    )
    c["c_fr_noagency"] = CustomerFactory(
        company=fr,
        reference="FR0001",
        name="Fromagerie Sans Agence",
        sales_rep=u["sales_rep_sam"],
        collector=u["collector_carol_fr"],
    )
    c["c_uk_alice"] = CustomerFactory(
        company=uk,
        reference="UK0001",
        name="British Widgets Ltd",
        country="GB",
        language="en",
        collector=u["collector_alice"],
    )
    c["c_uk_carol"] = CustomerFactory(
        company=uk,
        reference="UK0002",
        name="Cardiff Tools Ltd",
        country="GB",
        language="en",
        collector=u["collector_carol_fr"],
    )
    for key, cust in c.items():
        currency = cust.company.currency
        w.documents[key] = DocumentFactory(
            customer=cust,
            number=f"INV-{cust.reference}",
            currency=currency,
            issue_date=dt.date(2026, 4, 1),
            due_date=dt.date(2026, 5, 1),
        )
        w.payments[key] = PaymentFactory(
            customer=cust, reference=f"PAY-{cust.reference}", currency=currency, amount=Decimal("100.00")
        )
    w.unidentified = PaymentFactory(customer=None, company=fr, reference="PAY-UNKNOWN", currency="EUR")
    return w
