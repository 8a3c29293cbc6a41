"""Late-payment interest and recovery indemnities: what a customer owes for paying late, never claimed twice.

Rules (docs/collections.md, "Late-payment interest"):

* business customers only (``Customer.kind``); the company's rule ``fr_ecb_plus_10`` (French default:
  the ECB main refinancing rate in force on the first day of each half-year plus ``interest_points``), or
  ``none``; a contractual rate per customer (``CustomerTerms.contract_rate``) replaces it but is never below
  three times the legal rate of the half-year;
* computed period by period (``ledger.domain.late_interest``), pro rata of the days late, on invoices still
  open and on invoices paid late;
* the fixed recovery indemnity (``recovery_indemnity``, EUR 40 in France) once per invoice paid late or
  overdue, for invoices in euros;
* every amount claimed in a formal notice is recorded (:class:`Claim`): interest up to the notice's date,
  the indemnity once; a later notice claims only what accrued since.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Max, Q

from relance.core.money import quantize
from relance.core.vocab import CustomerKind
from relance.ledger import domain as ledger
from relance.ledger.models import Allocation, Customer, Document

from . import interest_rates
from .models import Claim, CustomerTerms, DunningAction
from .rules import settings_for

FLOOR_FACTOR = Decimal(3)


def rate_function(customer: Customer) -> Any:
    """``day -> percent a year`` for this customer, or None when no interest applies."""
    if customer.kind != CustomerKind.BUSINESS:
        return None
    conf = settings_for(customer.company_id)
    terms = CustomerTerms.objects.filter(customer=customer).first()
    contract = terms.contract_rate if terms else None
    if contract is None and conf.interest_rule == "none":
        return None
    policy = interest_rates.table("policy")
    legal = interest_rates.table("legal")
    points = Decimal(str(conf.interest_points))

    def statutory(day: dt.date) -> Decimal:
        return ledger.rate_in_force(policy, ledger.half_year_start(day)) + points

    def contractual(day: dt.date) -> Decimal:
        floor = ledger.rate_in_force(legal, ledger.half_year_start(day)) * FLOOR_FACTOR if legal else Decimal(0)
        return max(contract, floor)

    return contractual if contract is not None else statutory


def _settlements(doc_ids: list[int]) -> dict[int, list[tuple[dt.date, Decimal]]]:
    out: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for target, day, amount in Allocation.objects.filter(target_id__in=doc_ids).values_list(
        "target_id", "date", "amount"
    ):
        out[target].append((day, amount))
    return out


def _claimed(doc_ids: list[int]) -> tuple[dict[int, dt.date], set[int]]:
    through = dict(
        Claim.objects.filter(document_id__in=doc_ids, kind="interest")
        .values_list("document_id")
        .annotate(m=Max("period_to"))
        .values_list("document_id", "m")
    )
    indemnified = set(
        Claim.objects.filter(document_id__in=doc_ids, kind="indemnity").values_list("document_id", flat=True)
    )
    return through, indemnified


def late_documents(customer: Customer, currency: str, as_of: dt.date) -> list[Document]:
    """The customer's invoices in ``currency`` that are overdue, or were paid after their due date."""
    return list(
        Document.objects.filter(customer=customer, currency=currency, type="invoice", due_date__lt=as_of)
        .filter(Q(open_amount__gt=0) | Q(settled_on__gt=models_F("due_date")))
        .order_by("due_date", "number")
    )


def models_F(name: str) -> Any:
    from django.db.models import F

    return F(name)


def lines_for(customer: Customer, documents: list[Document], as_of: dt.date) -> list[dict[str, Any]]:
    """Interest and indemnity lines not claimed yet, per document (nothing for consumers)."""
    rate_for = rate_function(customer)
    if rate_for is None:
        return []
    ids = [d.pk for d in documents]
    settled = _settlements(ids)
    through, indemnified = _claimed(ids)
    indemnity = Decimal(str(settings_for(customer.company_id).recovery_indemnity))
    out: list[dict[str, Any]] = []
    for doc in documents:
        until = min(as_of, doc.settled_on) if doc.settled_on else as_of
        for line in ledger.late_interest(
            due_date=doc.due_date,
            amount=doc.amount,
            settlements=settled.get(doc.pk, []),
            until=until,
            rate_for=rate_for,
            claimed_through=through.get(doc.pk),
        ):
            amount = quantize(line.amount, doc.currency, ROUND_HALF_UP)
            if amount > 0:
                out.append(
                    {
                        "document": doc,
                        "number": doc.number,
                        "kind": "interest",
                        "currency": doc.currency,
                        "period_from": line.period_from,
                        "period_to": line.period_to,
                        "days": line.days,
                        "base": line.base,
                        "rate": line.rate,
                        "amount": amount,
                    }
                )
        late = (doc.settled_on or as_of) > doc.due_date
        if late and indemnity > 0 and doc.currency == "EUR" and doc.pk not in indemnified:
            out.append(
                {
                    "document": doc,
                    "number": doc.number,
                    "kind": "indemnity",
                    "currency": doc.currency,
                    "period_from": None,
                    "period_to": None,
                    "days": None,
                    "base": None,
                    "rate": None,
                    "amount": quantize(indemnity, doc.currency),
                }
            )
    return out


def statement(customer: Customer, currency: str, as_of: dt.date) -> dict[str, Any]:
    """What the customer owes for paying late, as of ``as_of``: claimable lines and what was already claimed."""
    docs = late_documents(customer, currency, as_of)
    lines = lines_for(customer, docs, as_of)
    claimed = list(
        Claim.objects.filter(customer=customer, currency=currency)
        .select_related("document")
        .order_by("claimed_on", "id")
    )
    return {
        "customer": customer,
        "currency": currency,
        "as_of": as_of,
        "lines": lines,
        "total": sum((x["amount"] for x in lines), Decimal(0)),
        "claimed": claimed,
        "claimed_total": sum((c.amount for c in claimed), Decimal(0)),
        "applies": rate_function(customer) is not None,
    }


def claim(*, action: DunningAction, customer: Customer, documents: list[Document], as_of: dt.date) -> list[dict]:
    """The lines a formal notice claims — for its documents and the customer's invoices paid late — recorded
    so that they are never claimed again (call inside the notice's transaction)."""
    docs = {d.pk: d for d in documents}
    for doc in late_documents(customer, action.currency, as_of):
        docs.setdefault(doc.pk, doc)
    lines = lines_for(customer, sorted(docs.values(), key=lambda d: (d.due_date, d.number)), as_of)
    Claim.objects.bulk_create(
        [
            Claim(
                company_id=customer.company_id,
                customer=customer,
                document=x["document"],
                kind=x["kind"],
                currency=x["currency"],
                amount=x["amount"],
                period_from=x["period_from"],
                period_to=x["period_to"],
                claimed_on=as_of,
                action=action,
            )
            for x in lines
        ]
    )
    return lines
