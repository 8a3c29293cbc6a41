"""The demo group: three companies in two countries, their agencies and users, through relance.orgs.services.

Every write here is audited by the services, with the actor label ``relance demo``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from relance.core.vocab import Role
from relance.orgs import services as orgs
from relance.orgs.models import Agency, Company, Group, User

from . import DEMO_EMAIL_DOMAIN, DEMO_GROUP_NAME, DEMO_PASSWORD
from . import identifiers as ids

ACTOR = "relance demo"


@dataclass(frozen=True)
class CompanySpec:
    code: str
    name: str
    country: str
    currency: str
    timezone: str
    bank: tuple[str, str, str]  # bank code, branch code, account number
    agencies: tuple[tuple[str, str, int], ...]  # (code, name, share of the company's customers); "" = no agency
    share: int  # share of the group's customers
    style: str  # document numbering and language: "fr" | "en"


COMPANIES: tuple[CompanySpec, ...] = (
    CompanySpec(
        "FR1",
        "Relance Démo Distribution SAS",
        "FR",
        "EUR",
        "Europe/Paris",
        ("30004", "00821", "00010293847"),
        (("PAR", "Paris", 40), ("LYO", "Lyon", 30), ("LIL", "Lille", 20), ("", "", 10)),
        50,
        "fr",
    ),
    CompanySpec(
        "FR2",
        "Relance Démo Services Ouest SAS",
        "FR",
        "EUR",
        "Europe/Paris",
        ("30003", "01450", "00050607080"),
        (("NTE", "Nantes", 55), ("BDX", "Bordeaux", 45)),
        30,
        "fr",
    ),
    CompanySpec(
        "UK1",
        "Relance Demo Supplies Ltd",
        "GB",
        "GBP",
        "Europe/London",
        ("NWBK", "601613", "31926819"),
        (("LON", "London", 60), ("MAN", "Manchester", 40)),
        20,
        "en",
    ),
)


@dataclass(frozen=True)
class LoginSpec:
    key: str  # the e-mail's local part
    role: str
    first_name: str
    last_name: str
    language: str
    agencies: tuple[str, ...] = ()  # scope (agency managers)
    portfolio: tuple[str, ...] = ()  # agencies whose customers they collect / sell to ("" = no agency)
    scope: str = "whole group"


LOGINS: tuple[LoginSpec, ...] = (
    LoginSpec("admin", Role.ADMIN, "Alex", "Durand", "en"),
    LoginSpec("creditmanager", Role.CREDIT_MANAGER, "Claire", "Moreau", "fr"),
    LoginSpec("collector1", Role.COLLECTOR, "Julien", "Petit", "fr", portfolio=("PAR", "LYO", "")),
    LoginSpec("collector2", Role.COLLECTOR, "Sophie", "Garnier", "fr", portfolio=("LIL", "NTE", "BDX")),
    LoginSpec("collector3", Role.COLLECTOR, "Oliver", "Hughes", "en", portfolio=("LON", "MAN")),
    LoginSpec("salesrep1", Role.SALES_REP, "Thomas", "Roux", "fr", portfolio=("PAR", "LIL", "")),
    LoginSpec("salesrep2", Role.SALES_REP, "Camille", "Faure", "fr", portfolio=("LYO", "NTE", "BDX")),
    LoginSpec("salesrep3", Role.SALES_REP, "Emily", "Walker", "en", portfolio=("LON", "MAN")),
    LoginSpec("agencymanager", Role.AGENCY_MANAGER, "Nicolas", "Lambert", "fr", agencies=("PAR",), scope="agency PAR"),
    LoginSpec("auditor", Role.AUDITOR, "Hélène", "Blanc", "en", scope="whole group, read-only"),
)


@dataclass(frozen=True)
class Login:
    email: str
    role: str
    scope: str
    password: str
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"email": self.email, "role": self.role, "scope": self.scope, "password": self.password}


@dataclass
class Org:
    group: Group
    companies: dict[str, Company] = field(default_factory=dict)
    specs: dict[str, CompanySpec] = field(default_factory=dict)
    agencies: dict[str, Agency] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    collector_of: dict[str, int] = field(default_factory=dict)  # agency code ("" = none) → user id
    sales_rep_of: dict[str, int] = field(default_factory=dict)


def scope_label(spec: LoginSpec) -> str:
    if spec.portfolio:
        return f"own customers ({', '.join(a or 'no agency' for a in spec.portfolio)})"
    return spec.scope


def email(key: str) -> str:
    return f"{key}@{DEMO_EMAIL_DOMAIN}"


def create_org(seed: int) -> Org:
    """Group, companies (valid SIREN/SIRET/VAT/IBAN/BIC), agencies and users; deterministic for ``seed``."""
    rng = random.Random(f"relance-demo:{seed}:org")
    group = orgs.group_set(actor=ACTOR, name=DEMO_GROUP_NAME, currency="EUR")
    org = Org(group=group)
    for spec in COMPANIES:
        bank_code, branch, account = spec.bank
        iban = ids.iban(spec.country, bank_code=bank_code, branch_code=branch, account_code=account)
        bic = ids.bic_of(iban)
        if spec.country == "FR":
            siren = ids.siren(rng)
            legal = {"siren": siren, "siret": ids.siret(siren, 17), "vat_number": ids.fr_vat(siren)}
        else:
            legal = {"vat_number": ids.gb_vat_number(rng)}
        company = orgs.company_add(
            actor=ACTOR,
            code=spec.code,
            name=spec.name,
            country=spec.country,
            currency=spec.currency,
            iban=iban,
            bic=bic,
            timezone=spec.timezone,
            **legal,
        )
        org.companies[spec.code] = company
        org.specs[spec.code] = spec
        for code, name, _share in spec.agencies:
            if code:
                org.agencies[code] = orgs.agency_add(actor=ACTOR, code=code, company=spec.code, name=name)
    # One hash for the shared demo password (hashing is deliberately slow: once is enough).
    encoded = make_password(DEMO_PASSWORD)
    for login in LOGINS:
        user = orgs.user_add(
            actor=ACTOR,
            email=email(login.key),
            role=login.role,
            agencies=list(login.agencies),
            first_name=login.first_name,
            last_name=login.last_name,
            language=login.language,
        )
        user.password = encoded
        user.save(update_fields=["password"])
        org.users[login.key] = user
        org.logins.append(
            Login(user.email, login.role, scope_label(login), DEMO_PASSWORD, f"{login.first_name} {login.last_name}")
        )
        for agency in login.portfolio:
            target = org.collector_of if login.role == Role.COLLECTOR else org.sales_rep_of
            target[agency] = user.pk
    return org


def existing_logins() -> list[Login]:
    """The demo logins still present in a database loaded earlier (for `relance demo --if-empty` to print)."""
    users = {u.email: u for u in User.objects.filter(email__in=[email(spec.key) for spec in LOGINS], is_active=True)}
    out = []
    for spec in LOGINS:
        user = users.get(email(spec.key))
        if user is not None:
            out.append(
                Login(user.email, user.role, scope_label(spec), DEMO_PASSWORD, f"{spec.first_name} {spec.last_name}")
            )
    return out
