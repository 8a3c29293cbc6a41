"""Paying from the portal: selections (one RF reference for the invoices ticked), bank details and the EPC QR
code, online sessions with a provider, and the provider's webhook turning into an allocated ledger payment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from relance.core import audit, clock
from relance.core.money import Money, quantize
from relance.core.vocab import DocumentType, PaymentMethod
from relance.ledger import services as ledger
from relance.ledger.models import Document
from relance.orgs.models import BankAccount

from . import domain, providers
from .alerting import PAYMENT_ALERT, alert
from .messages import MIXED_CURRENCIES, NOT_PAYABLE, NOTHING_LEFT, NOTHING_SELECTED, PortalError
from .models import PaymentSelection, PaymentSession, PortalLink, SessionStatus

UNKNOWN_SESSION = "unknown payment session"
AMOUNT_MISMATCH = "the amount of the event is not the amount of the session"


def actor_of(link: PortalLink) -> str:
    """How portal actions are signed in the audit trail and the activity log."""
    who = link.contact.email if link.contact_id and link.contact and link.contact.email else f"link {link.prefix}"
    return f"portal:{who}"[:200]


def open_invoices(link: PortalLink) -> Any:
    """The open invoices of the link's customer with the link's company: what the portal may show and pay."""
    return Document.objects.filter(
        customer_id=link.customer_id, company_id=link.company_id, type=DocumentType.INVOICE, open_amount__gt=0
    ).order_by("due_date", "number", "id")


def _ids(values: Iterable[Any]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise PortalError(NOT_PAYABLE, field="documents")
    return sorted(set(out))


@transaction.atomic
def selection_get_or_create(*, link: PortalLink, document_ids: Iterable[Any]) -> PaymentSelection:
    """The selection (and its RF reference) for these invoices of the link's customer; the same invoices always
    give the same selection. Refuses documents of anyone else, closed ones and mixed currencies."""
    ids = _ids(document_ids)
    if not ids:
        raise PortalError(NOTHING_SELECTED, field="documents")
    docs = list(open_invoices(link).filter(pk__in=ids))
    if len(docs) != len(ids):
        raise PortalError(NOT_PAYABLE, field="documents")
    currencies = sorted({d.currency for d in docs})
    if len(currencies) > 1:
        raise PortalError(MIXED_CURRENCIES, currencies=", ".join(currencies), field="documents")
    key = domain.selection_key(ids)
    selection = PaymentSelection.objects.filter(customer_id=link.customer_id, key=key).first()
    if selection is not None:
        return selection
    total = sum((d.open_amount for d in docs), Decimal(0))
    selection = PaymentSelection.objects.create(
        company_id=link.company_id,
        customer_id=link.customer_id,
        link=link,
        key=key,
        currency=currencies[0],
        amount=quantize(total, currencies[0]),
    )
    selection.documents.set(docs)
    selection.reference = domain.selection_reference(selection.pk)
    selection.save(update_fields=["reference"])
    audit.record(
        actor=actor_of(link),
        action="portal.selection_create",
        obj=selection,
        changes={"reference": selection.reference, "documents": [d.number for d in docs]},
    )
    return selection


def selection_open_amount(selection: PaymentSelection) -> Money:
    """What is still open on the selection's invoices (what the QR code and an online payment ask for)."""
    total = sum((d.open_amount for d in selection.documents.all() if d.open_amount > 0), Decimal(0))
    return Money(quantize(total, selection.currency), selection.currency)


def selection_sources(company: Any) -> Mapping[int, list[int]]:
    """Cash application's view of the company's selections that still name an open invoice: {id: document ids}."""
    through = PaymentSelection.documents.through
    rows = through.objects.filter(paymentselection__company=company, document__open_amount__gt=0).values_list(
        "paymentselection_id", "document_id"
    )
    out: dict[int, list[int]] = {}
    for selection_id, document_id in rows:
        out.setdefault(selection_id, []).append(document_id)
    return out


@dataclass(frozen=True)
class BankDetails:
    holder: str
    iban: str
    bic: str


def bank_details(company: Any, currency: str) -> BankDetails | None:
    """The company's account to pay ``currency`` into: one in that currency, else one without a currency, else
    the first one (the bank converts)."""
    accounts = list(BankAccount.objects.filter(company=company).order_by("id"))
    chosen = (
        next((a for a in accounts if a.currency == currency), None)
        or next((a for a in accounts if not a.currency), None)
        or next(iter(accounts), None)
    )
    if chosen is None:
        return None
    return BankDetails(holder=company.name, iban=chosen.iban, bic=chosen.bic)


def epc_transfer(selection: PaymentSelection, details: BankDetails | None) -> domain.EpcTransfer | None:
    if details is None:
        return None
    return domain.epc_transfer(
        name=details.holder,
        iban=details.iban,
        bic=details.bic,
        amount=selection_open_amount(selection),
        reference=selection.reference,
    )


def epc_qr_svg(transfer: domain.EpcTransfer) -> str:
    """The EPC QR code as an SVG data URI (segno's EPC helper)."""
    from segno import helpers

    qr = helpers.make_epc_qr(**transfer.qr_kwargs())  # type: ignore[arg-type]
    return qr.svg_data_uri(scale=4, border=2)


# --- online payment ---------------------------------------------------------------------------------------


@transaction.atomic
def session_start(
    *, link: PortalLink, selection: PaymentSelection, return_url: str, webhook_url: str
) -> tuple[PaymentSession, str]:
    """Open a payment with the configured provider for what is open on the selection; returns the session and
    the provider's URL to send the customer to."""
    if selection.customer_id != link.customer_id:
        raise PortalError(NOT_PAYABLE, field="selection")
    amount = selection_open_amount(selection)
    if amount.amount <= 0:
        raise PortalError(NOTHING_LEFT, field="selection")
    provider = providers.get()
    created = provider.create_session(
        amount=amount,
        reference=selection.reference,
        description=f"{selection.customer.company.name} — {selection.reference}",
        return_url=return_url,
        webhook_url=webhook_url,
    )
    session = PaymentSession.objects.create(
        company_id=link.company_id,
        customer_id=link.customer_id,
        selection=selection,
        link=link,
        provider=provider.name,
        provider_ref=created.provider_ref,
        currency=amount.currency,
        amount=amount.amount,
    )
    audit.record(actor=actor_of(link), action="portal.session_start", obj=session, changes={"amount": str(amount)})
    return session, created.redirect_url


def webhook_receive(*, provider_name: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Handle a provider's webhook: "paid", "failed", or "duplicate" for an event already applied. Raises
    :class:`providers.InvalidWebhook` (nothing written) when it cannot be trusted."""
    provider = providers.get(provider_name)
    event = provider.parse_webhook(body=body, headers=headers, now=clock.now())
    return session_settle(provider_name=provider.name, event=event)


@transaction.atomic
def session_settle(*, provider_name: str, event: providers.WebhookEvent) -> str:
    session = (
        PaymentSession.objects.select_for_update()
        .select_related("customer", "customer__company", "selection")
        .filter(provider=provider_name, provider_ref=event.provider_ref)
        .first()
    )
    if session is None:
        raise providers.InvalidWebhook(UNKNOWN_SESSION)
    if event.amount != Money(session.amount, session.currency):
        raise providers.InvalidWebhook(AMOUNT_MISMATCH)
    if session.status == SessionStatus.PAID:
        return "duplicate"  # a replay, or a late "failed" after success: the payment stands
    actor = f"portal:{provider_name}"
    if event.status == providers.FAILED:
        if session.status != SessionStatus.FAILED:
            session.status = SessionStatus.FAILED
            session.save(update_fields=["status", "updated_at"])
            audit.record(actor=actor, action="portal.session_failed", obj=session, message=event.event_id)
        return "failed"
    return _book_payment(session, event, actor)


def _book_payment(session: PaymentSession, event: providers.WebhookEvent, actor: str) -> str:
    from relance.collections import activity as kinds
    from relance.collections import services as collections

    customer = session.customer
    today = clock.today(customer.company.timezone)
    payment, _ = ledger.payment_upsert(
        actor=actor,
        company=customer.company,
        customer=customer,
        reference=f"{session.provider}:{session.provider_ref}"[:80],
        date=today,
        currency=session.currency,
        amount=session.amount,
        method=PaymentMethod.CARD,
        bank_reference=session.selection.reference,
        source="portal",
    )
    docs = list(session.selection.documents.filter(open_amount__gt=0, currency=session.currency).select_for_update())
    items = [domain.Item(d.pk, d.number, d.due_date, d.open_amount) for d in docs]
    by_id = {d.pk: d for d in docs}
    numbers = []
    for doc_id, share in domain.allocation_plan(items, session.amount):
        ledger.allocation_create(
            actor=actor, target=by_id[doc_id], amount=share, date=today, payment=payment, source="portal"
        )
        numbers.append(by_id[doc_id].number)
    session.status = SessionStatus.PAID
    session.payment = payment
    session.save(update_fields=["status", "payment", "updated_at"])
    audit.record(actor=actor, action="portal.session_paid", obj=session, message=event.event_id)
    amount = Money(session.amount, session.currency)
    collections.activity_record(
        customer=customer,
        kind=kinds.PORTAL_PAYMENT,
        actor=actor,
        text=str(amount),
        data={
            "payment": payment.reference,
            "amount": str(session.amount),
            "currency": session.currency,
            "documents": numbers,
            "reference": session.selection.reference,
        },  # fmt: skip
    )
    alert(
        kind=PAYMENT_ALERT,
        customer=customer,
        key=f"session:{session.pk}",
        title=f"{customer.name} paid {amount} online through the portal",
        message=f"Invoices: {', '.join(numbers) or '(none left open: kept on account)'}.",
        data={"payment": payment.reference, "documents": numbers},
        as_of=today,
    )
    return "paid"
