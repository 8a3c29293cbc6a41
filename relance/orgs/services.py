"""Writes on the organisation: group, companies, agencies, users, API keys. Each one audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction

from relance.core import audit, clock, errors
from relance.core.identifiers import (
    validate_bic,
    validate_country,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat,
)
from relance.core.money import validate_currency
from relance.core.vocab import Role

from .models import Agency, ApiKey, BankAccount, Company, Group, User

DEFAULT_GROUP_NAME = "My group"
TOKEN_PREFIX = "rlk_"


def current_group() -> Group:
    """The installation's group (the tenant), created on first use."""
    group = Group.objects.order_by("pk").first()
    if group is None:
        group = Group.objects.create(name=DEFAULT_GROUP_NAME, currency="EUR")
    return group


@transaction.atomic
def group_set(*, actor: Any, name: str | None = None, currency: str | None = None) -> Group:
    group = current_group()
    before = audit.snapshot(group)
    if name is not None:
        if not name.strip():
            raise errors.ValidationError("The group name cannot be empty.", field="name")
        group.name = name.strip()
    if currency is not None:
        group.currency = validate_currency(currency)
    group.save()
    audit.record(actor=actor, action="group.set", obj=group, changes=audit.diff(before, audit.snapshot(group)))
    return group


@transaction.atomic
def company_add(
    *,
    actor: Any,
    code: str,
    name: str,
    country: str,
    currency: str,
    siren: str = "",
    siret: str = "",
    vat_number: str = "",
    iban: str = "",
    bic: str = "",
    timezone: str = "",
) -> Company:
    """Create a company (or update the one with this code). Identifiers are validated before anything is written."""
    code = code.strip().upper()
    if not code:
        raise errors.ValidationError("The company code cannot be empty.", field="code")
    if not name.strip():
        raise errors.ValidationError("The company name cannot be empty.", field="name")
    values = {
        "name": name.strip(),
        "country": validate_country(country),
        "currency": validate_currency(currency),
        "siren": validate_siren(siren) if siren else "",
        "siret": validate_siret(siret) if siret else "",
        "vat_number": validate_vat(vat_number) if vat_number else "",
    }
    if timezone:
        from zoneinfo import available_timezones

        if timezone not in available_timezones():
            raise errors.ValidationError(f"{timezone!r} is not a time zone (e.g. Europe/Paris).", field="timezone")
        values["timezone"] = timezone
    if values["siret"] and values["siren"] and not values["siret"].startswith(values["siren"]):
        raise errors.ValidationError(
            f"SIRET {values['siret']} does not belong to SIREN {values['siren']}.", field="siret"
        )
    if values["siret"] and not values["siren"]:
        values["siren"] = values["siret"][:9]
    account = None
    if iban or bic:
        if not iban:
            raise errors.ValidationError("A BIC needs its IBAN (--iban).", field="iban")
        account = {"iban": validate_iban(iban), "bic": validate_bic(bic) if bic else ""}
    company = Company.objects.filter(code=code).first()
    if company is None:
        company = Company.objects.create(group=current_group(), code=code, **values)
        audit.record(actor=actor, action="company.create", obj=company, changes=audit.snapshot(company))
    else:
        before = audit.snapshot(company)
        for key, value in values.items():
            setattr(company, key, value)
        company.save()
        audit.record(
            actor=actor, action="company.update", obj=company, changes=audit.diff(before, audit.snapshot(company))
        )
    if account:
        existing = BankAccount.objects.filter(iban=account["iban"]).first()
        if existing and existing.company_id != company.pk:
            raise errors.ValidationError(
                f"IBAN {account['iban']} is already registered to company {existing.company.code}.", field="iban"
            )
        bank, created = BankAccount.objects.update_or_create(
            iban=account["iban"], defaults={"company": company, "bic": account["bic"], "currency": company.currency}
        )
        audit.record(actor=actor, action="bank_account.create" if created else "bank_account.update", obj=bank)
    return company


def company_by_code(code: str) -> Company:
    company = Company.objects.filter(code=code.strip().upper()).first()
    if company is None:
        raise errors.ValidationError(errors.UNKNOWN_COMPANY.format(code=code), field="company")
    return company


def agency_by_code(code: str) -> Agency:
    agency = Agency.objects.select_related("company").filter(code=code.strip().upper()).first()
    if agency is None:
        raise errors.ValidationError(errors.UNKNOWN_AGENCY.format(code=code), field="agency")
    return agency


@transaction.atomic
def agency_add(*, actor: Any, code: str, company: str, name: str) -> Agency:
    owner = company_by_code(company)
    code = code.strip().upper()
    if not code or not name.strip():
        raise errors.ValidationError("An agency needs a code and a name.", field="code")
    agency = Agency.objects.filter(code=code).first()
    if agency and agency.company_id != owner.pk:
        raise errors.ValidationError(
            errors.WRONG_COMPANY.format(what=f"Agency {code}", other=agency.company.code, company=owner.code),
            field="company",
        )
    agency, created = Agency.objects.update_or_create(code=code, defaults={"company": owner, "name": name.strip()})
    audit.record(actor=actor, action="agency.create" if created else "agency.update", obj=agency, company_id=owner.pk)
    return agency


@transaction.atomic
def user_add(
    *,
    actor: Any,
    email: str,
    role: str,
    companies: list[str] | None = None,
    agencies: list[str] | None = None,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    language: str = "en",
) -> User:
    """Create or update a staff user with a role and a scope (companies and agencies by code)."""
    if role not in Role.values:
        raise errors.ValidationError(
            errors.INVALID_ROLE.format(value=role, choices=", ".join(Role.values)), field="role"
        )
    if "@" not in email:
        raise errors.ValidationError(f"{email!r} is not an e-mail address.", field="email")
    if language not in ("en", "fr"):
        raise errors.ValidationError(errors.INVALID_LANGUAGE.format(value=language), field="language")
    company_objs = [company_by_code(c) for c in companies or []]
    agency_objs = [agency_by_code(a) for a in agencies or []]
    if role == Role.AGENCY_MANAGER and not agency_objs:
        raise errors.ValidationError(errors.AGENCY_REQUIRED, field="agency")
    email = email.strip().lower()
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = User(email=email, username=email)
    user.role = role
    user.first_name = first_name or user.first_name
    user.last_name = last_name or user.last_name
    user.language = language
    user.is_staff = role == Role.ADMIN
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    user.save()
    user.companies.set(company_objs)
    user.agencies.set(agency_objs)
    audit.record(
        actor=actor,
        action="user.create" if created else "user.update",
        obj=user,
        changes={"role": role, "companies": [c.code for c in company_objs], "agencies": [a.code for a in agency_objs]},
    )
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def apikey_create(*, actor: Any, email: str, label: str = "") -> tuple[ApiKey, str]:
    """A new API token for the user; returns (key, token). The token is shown once and stored hashed."""
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise errors.ValidationError(errors.UNKNOWN_USER.format(email=email), field="email")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, prefix=token[:12], digest=_digest(token), label=label)
    audit.record(actor=actor, action="apikey.create", obj=key, message=f"for {user.email}")
    return key, token


def apikey_authenticate(token: str) -> User | None:
    """The active user behind a bearer token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    key = ApiKey.objects.select_related("user").filter(digest=_digest(token), revoked_at__isnull=True).first()
    if key is None or not key.user.is_active:
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user


@transaction.atomic
def apikey_revoke(*, actor: Any, prefix: str) -> int:
    keys = list(ApiKey.objects.filter(prefix=prefix, revoked_at__isnull=True))
    for key in keys:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="apikey.revoke", obj=key)
    return len(keys)
