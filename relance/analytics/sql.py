"""SQL building blocks shared by the KPI and forecast selectors: scoped querysets, open amounts as of a date.

Open at a date D (docs/kpi.md): amount less the allocations to the document (or from it, for a credit
note) dated on or before D. Today the stored ``open_amount`` is that figure; for a past date the
candidates are the documents open now plus those touched by an allocation dated after D (any other
document was already settled at D), and their open amount is recomputed with two correlated sums.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    Expression,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from relance.collections.models import Dispute
from relance.core import scope
from relance.core.vocab import DocumentType
from relance.ledger.models import Allocation, Document, Payment

AMOUNT = DecimalField(max_digits=18, decimal_places=3)
ZERO = Value(Decimal(0), output_field=AMOUNT)
INVOICE = Q(type=DocumentType.INVOICE)
CREDIT_NOTE = Q(type=DocumentType.CREDIT_NOTE)


@dataclass(frozen=True)
class KpiFilters:
    """Narrow the user's scope further: company and agency by code, collector by user id, document currency,
    customer risk class, one customer."""

    company: str = ""
    agency: str = ""
    collector: int | None = None
    currency: str = ""
    risk_class: str = ""
    customer: int | None = None

    def customer_q(self, prefix: str = "customer__") -> Q:
        q = Q()
        if self.company:
            q &= Q(**{f"{prefix}company__code": self.company.upper()})
        if self.agency:
            q &= Q(**{f"{prefix}agency__code": self.agency.upper()})
        if self.collector:
            q &= Q(**{f"{prefix}collector_id": self.collector})
        if self.risk_class:
            q &= Q(**{f"{prefix}risk_class": "" if self.risk_class == "-" else self.risk_class.upper()})
        if self.customer:
            q &= Q(**{f"{prefix}id": self.customer})
        return q

    def query(self) -> dict[str, str]:
        """The filters as query-string parameters (for drill-down links and exports)."""
        out = {k: str(v) for k, v in self.__dict__.items() if v}
        return out


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (end − start), on SQLite and PostgreSQL."""

    output_field = IntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start, output_field=IntegerField())

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"CAST(julianday({end}) - julianday({start}) AS INTEGER)", [*end_params, *start_params]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"({end} - {start})", [*end_params, *start_params]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # other backends
        return self.as_postgresql(compiler, connection, **extra)


def documents(user: Any, f: KpiFilters) -> QuerySet[Document]:
    qs = scope.restrict(user, Document.objects.all()).filter(f.customer_q()).order_by()
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs


def payments(user: Any, f: KpiFilters) -> QuerySet[Payment]:
    """Payments of the scope; unidentified cash (no customer) only without customer-level filters."""
    qs = scope.restrict(user, Payment.objects.all()).order_by()
    if f.company:  # the payment's own company: unidentified cash of that company counts
        qs = qs.filter(company__code=f.company.upper())
    cq = replace(f, company="").customer_q()
    if cq:
        qs = qs.filter(cq)
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs


def allocations(user: Any, f: KpiFilters) -> QuerySet[Allocation]:
    qs = scope.restrict(user, Allocation.objects.all()).filter(f.customer_q()).order_by()
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs


def is_live(as_of: dt.date, today: dt.date) -> bool:
    """Whether the stored open amounts are the figures of ``as_of`` (today or later)."""
    return as_of >= today


def _alloc_sum(as_of: dt.date, field: str) -> Subquery:
    return Subquery(
        Allocation.objects.filter(**{field: OuterRef("pk")}, date__lte=as_of)
        .order_by()
        .values(field)
        .annotate(s=Sum("amount"))
        .values("s"),
        output_field=AMOUNT,
    )


def open_documents(qs: QuerySet[Document], as_of: dt.date, today: dt.date) -> tuple[QuerySet[Document], Expression]:
    """The documents of ``qs`` open at ``as_of`` (issued by then) and the expression of their open amount."""
    qs = qs.filter(issue_date__lte=as_of)
    if is_live(as_of, today):
        return qs.filter(open_amount__gt=0), F("open_amount")
    later = Allocation.objects.filter(date__gt=as_of).order_by()
    qs = qs.filter(
        Q(open_amount__gt=0)
        | Q(pk__in=later.values("target_id"))
        | Q(pk__in=later.filter(credit_note__isnull=False).values("credit_note_id"))
    )
    expr = F("amount") - Coalesce(_alloc_sum(as_of, "target"), ZERO) - Coalesce(_alloc_sum(as_of, "credit_note"), ZERO)
    qs = qs.alias(open_then=expr).filter(open_then__gt=0)
    return qs, F("open_then")


def signed(open_expr: Expression) -> Case:
    return Case(When(CREDIT_NOTE, then=-open_expr), default=open_expr, output_field=AMOUNT)


def disputed_q(as_of: dt.date) -> Q:
    """The document is in a dispute open at ``as_of``."""
    open_then = Dispute.objects.filter(documents=OuterRef("pk"), opened_on__lte=as_of).filter(
        Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of)
    )
    return Q(Exists(open_then))


def unallocated_payments(qs: QuerySet[Payment], as_of: dt.date, today: dt.date) -> tuple[QuerySet[Payment], Expression]:
    """Payments received by ``as_of``, not returned by then, with something unallocated at ``as_of``."""
    qs = qs.filter(date__lte=as_of).filter(Q(returned_on__isnull=True) | Q(returned_on__gt=as_of))
    if is_live(as_of, today):
        return qs.filter(unallocated_amount__gt=0, returned_on__isnull=True), F("unallocated_amount")
    later = Allocation.objects.filter(date__gt=as_of, payment__isnull=False).order_by()
    qs = qs.filter(Q(unallocated_amount__gt=0) | Q(pk__in=later.values("payment_id")))
    expr = F("amount") - Coalesce(_alloc_sum(as_of, "payment"), ZERO)
    return qs.alias(left_then=expr).filter(left_then__gt=0), F("left_then")
