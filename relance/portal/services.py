"""Portal writes: links (create, resolve, revoke). Payment, promise and dispute actions live in ``actions.py``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from relance.core import audit, clock, errors
from relance.ledger.models import Contact, Customer

from . import domain
from .models import PortalLink

CONTACT_OF_OTHER_CUSTOMER = "Contact {contact} is not a contact of customer {customer}."
UNKNOWN_CUSTOMER = "Unknown customer {reference!r}{where}."
AMBIGUOUS_CUSTOMER = "Customer reference {reference!r} exists in several companies ({codes}): add --company CODE."
NOTHING_TO_REVOKE = "Give a customer or a link to revoke."


def _secret() -> str:
    return getattr(settings, "RELANCE_PORTAL_SECRET", "") or settings.SECRET_KEY


def base_url() -> str:
    return str(getattr(settings, "RELANCE_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def link_days() -> int:
    return int(getattr(settings, "RELANCE_PORTAL_LINK_DAYS", 60))


def portal_url(token: str) -> str:
    """The absolute URL of the portal for a signed token."""
    return base_url() + reverse("portal:home", kwargs={"token": token})


@transaction.atomic
def link_create(*, customer: Customer, contact: Contact | None = None, actor: Any = None) -> tuple[PortalLink, str]:
    """A new link for ``contact`` (default: the customer's main accounts-payable contact); returns (link, token).

    The token is shown once: only its digest is stored.
    """
    if contact is None:
        contact = customer.contacts.filter(is_main_ap=True).first()
    elif contact.customer_id != customer.pk:
        raise errors.ValidationError(
            CONTACT_OF_OTHER_CUSTOMER.format(contact=contact.pk, customer=customer.reference), field="contact"
        )
    now = clock.now()
    raw = domain.new_raw_token()
    link = PortalLink.objects.create(
        company_id=customer.company_id,
        customer=customer,
        contact=contact,
        digest=domain.token_digest(raw),
        prefix=raw[:8],
        created_by=audit.actor_label(actor),
        expires_at=domain.expiry(now=now, days=link_days()),
    )
    audit.record(actor=actor, action="portal.link_create", obj=link, message=f"until {link.expires_at:%Y-%m-%d}")
    return link, domain.sign_token(raw, _secret())


def portal_link(*, customer: Customer, contact: Contact | None = None) -> str:
    """The absolute portal URL for the customer's main accounts-payable contact (or ``contact``): signed,
    unguessable, scoped to that contact and customer, expiring after RELANCE_PORTAL_LINK_DAYS, revocable.

    Each call makes a new link (reminders embed one each); revoking a customer's links revokes them all.
    """
    _, token = link_create(customer=customer, contact=contact, actor=None)
    return portal_url(token)


def link_resolve(token: str, *, touch: bool = True) -> PortalLink | None:
    """The valid link behind a token, or None for a wrong, expired or revoked token (the caller shows the same
    neutral page in every case)."""
    raw = domain.unsign_token(token, _secret())
    if raw is None:
        return None
    link = (
        PortalLink.objects.select_related("customer", "customer__company", "contact")
        .filter(digest=domain.token_digest(raw))
        .first()
    )
    if link is None:
        return None
    now = clock.now()
    if domain.link_state(expires_at=link.expires_at, revoked_at=link.revoked_at, now=now) != domain.LinkState.VALID:
        return None
    if touch:
        PortalLink.objects.filter(pk=link.pk).update(last_used_at=now, uses=F("uses") + 1)
    return link


def _token_of(url_or_token: str) -> str:
    text = url_or_token.strip().rstrip("/")
    return text.rsplit("/", 1)[-1] if "/" in text else text


@transaction.atomic
def link_revoke(*, actor: Any, customer: Customer | None = None, token: str = "") -> int:
    """Revoke one link (by its URL or token) or every active link of a customer; returns how many."""
    now = clock.now()
    qs = PortalLink.objects.filter(revoked_at__isnull=True)
    if token:
        raw = domain.unsign_token(_token_of(token), _secret())
        if raw is None:
            return 0
        qs = qs.filter(digest=domain.token_digest(raw))
        if customer is not None:
            qs = qs.filter(customer=customer)
    elif customer is not None:
        qs = qs.filter(customer=customer)
    else:
        raise errors.ValidationError(NOTHING_TO_REVOKE, field="customer")
    links = list(qs.select_for_update())
    for link in links:
        link.revoked_at = now
        link.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="portal.link_revoke", obj=link)
    return len(links)


def customer_lookup(*, reference: str, company_code: str = "") -> Customer:
    """The customer with this reference (in the company with this code when given), else a clear error."""
    qs = Customer.objects.select_related("company").filter(reference=reference)
    if company_code:
        qs = qs.filter(company__code=company_code)
    found = list(qs[:10])
    if not found:
        where = f" in company {company_code}" if company_code else ""
        raise errors.NotFound(UNKNOWN_CUSTOMER.format(reference=reference, where=where))
    if len(found) > 1:
        codes = ", ".join(sorted(c.company.code for c in found))
        raise errors.ValidationError(AMBIGUOUS_CUSTOMER.format(reference=reference, codes=codes), field="company")
    return found[0]
