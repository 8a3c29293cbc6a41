"""Reading risk data.

* :func:`dunning_stopped_customer_ids` is read by the collections cycle (a system read, no user): a customer
  whose legal entity is in insolvency proceedings gets no dunning in any company of the group
  (``CustomerRisk.dunning_stopped``, set by the rescoring when the class becomes X).
* :func:`credit_summary` and :func:`credit_check` read for a user, through the scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.db.models.query import ModelIterable

from relance.core import errors, scope
from relance.core.money import quantize, to_decimal, validate_currency
from relance.ledger import rates
from relance.ledger.models import Customer, Document

from . import credit, queries, reasons
from .models import Claim, CustomerRisk, ScoreHistory
from .scoring import settings_for

TERMS_RANGE = "payment_terms_days must be between 0 and 365 (got {value})."
AMOUNT_POSITIVE = "The amount must be greater than zero (got {value})."


def dunning_stopped_customer_ids(company_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of the customer accounts whose dunning is stopped (insolvency proceedings), optionally in some companies."""
    qs = CustomerRisk.objects.filter(dunning_stopped=True)
    if company_ids is not None:
        qs = qs.filter(customer__company_id__in=list(company_ids))
    return set(qs.values_list("customer_id", flat=True))


@dataclass(frozen=True)
class CreditSummary:
    score: int | None
    risk_class: str
    reasons: list[str]
    recommended: Decimal | None
    granted: Decimal | None  # while valid
    granted_expires_on: dt.date | None
    limit: Decimal | None  # granted, else recommended
    exposure: queries.Exposure
    blocked: bool
    blocked_reason: str
    currency: str
    rule: str
    requested: Decimal | None

    @property
    def utilisation(self) -> Decimal | None:
        """Exposure as a percentage of the limit (None without a limit)."""
        if not self.limit:
            return None
        return (self.exposure.total / self.limit * 100).quantize(Decimal(1))

    @property
    def headroom(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.exposure.total


def _risk_of(customer: Customer) -> CustomerRisk | None:
    try:
        return customer.risk
    except CustomerRisk.DoesNotExist:
        return None


def credit_summary(customer: Customer, *, as_of: dt.date | None = None) -> CreditSummary:
    """Score, limits, exposure and block of one customer (cached on the object for the request)."""
    cached = getattr(customer, "_credit_summary", None)
    if cached is None:
        attach_credit([customer], as_of=as_of)
    return customer._credit_summary  # type: ignore[attr-defined]


def attach_credit(customers: list[Customer], *, as_of: dt.date | None = None) -> None:
    """Compute the credit summaries of many customers at once (one exposure query) and cache them."""
    from relance.core import clock

    today = as_of or clock.today()
    pending = [c for c in customers if getattr(c, "_credit_summary", None) is None]
    if not pending:
        return
    exposures = queries.exposures({c.pk: c.company.currency for c in pending}, as_of=today)
    for customer in pending:
        customer._credit_summary = _summary(customer, exposures[customer.pk], today)  # type: ignore[attr-defined]


def _summary(customer: Customer, exposure: queries.Exposure, today: dt.date) -> CreditSummary:
    import json

    risk = _risk_of(customer)
    currency = customer.company.currency
    granted = None
    if risk is not None and risk.granted_limit is not None:
        if risk.granted_expires_on is None or risk.granted_expires_on >= today:
            granted = quantize(Decimal(risk.granted_limit), currency)
    recommended = None
    if risk is not None and risk.recommended_limit is not None:
        recommended = quantize(Decimal(risk.recommended_limit), currency)
    rule = reasons.rule_text(json.loads(risk.recommended_rule)) if risk is not None and risk.recommended_rule else ""
    return CreditSummary(
        score=risk.score if risk else None,
        risk_class=(risk.risk_class if risk else "") or customer.risk_class,
        reasons=reasons.texts(risk.reasons) if risk else [],
        recommended=recommended,
        granted=granted,
        granted_expires_on=risk.granted_expires_on if risk and granted is not None else None,
        limit=granted if granted is not None else recommended,
        exposure=exposure,
        blocked=bool(risk and risk.blocked),
        blocked_reason=risk.blocked_reason if risk else "",
        currency=currency,
        rule=rule,
        requested=quantize(Decimal(risk.requested_limit), currency) if risk and risk.requested_limit else None,
    )


class _CreditIterable(ModelIterable):
    """Yields customers with their credit summaries computed for the whole page at once."""

    def __iter__(self) -> Iterator[Customer]:
        objs = list(super().__iter__())
        attach_credit(objs)
        yield from objs


def with_credit(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """``customers`` whose rows come with their score, limits and exposure (a fixed number of queries a page)."""
    qs = customers.select_related("risk")
    qs._iterable_class = _CreditIterable
    return qs


def credit_check(
    user: Any, customer: Customer, *, amount: Any, currency: str, payment_terms_days: int
) -> credit.CheckResult:
    """The credit-check decision for a new order or quote of ``amount`` in ``currency`` (read-only)."""
    scope.require(user, "view", customer)
    currency = validate_currency(currency)
    value = to_decimal(amount, field="amount")
    if value <= 0:
        raise errors.ValidationError(AMOUNT_POSITIVE.format(value=value), field="amount")
    if not 0 <= int(payment_terms_days) <= 365:
        raise errors.ValidationError(TERMS_RANGE.format(value=payment_terms_days), field="payment_terms_days")
    from relance.core import clock

    today = clock.today()
    company_currency = customer.company.currency
    if currency != company_currency:
        from relance.core.money import Money

        value = rates.convert(Money(value, currency), company_currency, today).amount
    summary = credit_summary(customer, as_of=today)
    oldest = (
        Document.objects.filter(customer=customer, type="invoice", open_amount__gt=0, due_date__lt=today)
        .order_by("due_date")
        .values_list("due_date", flat=True)
        .first()
    )
    data = credit.CheckInput(
        amount=value,
        currency=company_currency,
        payment_terms_days=int(payment_terms_days),
        exposure=summary.exposure.total,
        limit=summary.limit,
        risk_class=summary.risk_class,
        blocked=summary.blocked,
        oldest_overdue_days=(today - oldest).days if oldest else 0,
    )
    return credit.credit_check(data, settings_for(customer.company.group_id))


def blocked_customers(user: Any) -> QuerySet[CustomerRisk]:
    """Blocked customers (and customers in insolvency proceedings) of the user's scope."""
    visible = scope.restrict(user, Customer.objects.all()).values("pk")
    return (
        CustomerRisk.objects.filter(customer__in=visible)
        .filter(blocked=True)
        .select_related("customer__company")
        .order_by("customer__company__code", "customer__reference")
    )


def history(user: Any, customer: Customer) -> QuerySet[ScoreHistory]:
    scope.require(user, "view", customer)
    return ScoreHistory.objects.filter(customer=customer).order_by("as_of")


def claims(user: Any) -> QuerySet[Claim]:
    return scope.restrict(user, Claim.objects.select_related("customer__company", "legal_event")).order_by(
        "declared_on", "deadline"
    )
