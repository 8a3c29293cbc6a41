"""Per-cell measures of the receivables at a date, live (SQL aggregates over the ledger) or from the daily summary.

A *cell* is what a scope or a filter can select: currency, company, agency, collector, sales rep and risk class
of the customer. Every measure is additive over cells, so a user's KPIs are the sum of the cells of their scope,
whichever way the cells were computed. ``live_positions`` groups the ledger by cell (one query per kind of
measure); ``analytics.DailyPosition`` stores the same rows per date (``summaries.refresh``), read by
``stored_positions`` through relance.core.scope like any other model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, Exists, F, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Least

from relance.core import clock, scope
from relance.core.money import from_db
from relance.core.vocab import DocumentType
from relance.ledger.domain import DEFAULT_BUCKETS, Bucket

from . import domain, extras, sql
from .aging import _bucket_q
from .sql import AMOUNT, CREDIT_NOTE, INVOICE, KpiFilters

CELL = ("currency", "company_id", "agency_id", "collector_id", "sales_rep_id", "risk_class")
BUCKETS = DEFAULT_BUCKETS  # the summary stores the default buckets; other buckets are computed live
MONEY = ("b0", "b1", "b2", "b3", "b4", "b5", "at_risk", "disputed", "unapplied", "deposits", "under_promise",
         "insured", "factored", "inv_open", "cn_open", "od_amount")  # fmt: skip
COUNTS = ("od_count", "cust_open", "cust_od")  # a customer is in one cell per currency: counts add up too
FLOW_MONEY = ("sales", "settled", "cash")
FLOW_WEIGHTS = ("beh", "beh_pay", "beh_late")  # weights and day-weighted sums: not rounded to a currency


def _doc_cell(prefix: str = "customer__") -> dict[str, Any]:
    return {
        "agency_id": F(f"{prefix}agency_id"),
        "collector_id": F(f"{prefix}collector_id"),
        "sales_rep_id": F(f"{prefix}sales_rep_id"),
        "risk_class": F(f"{prefix}risk_class"),
    }


def _rows(qs: Any, extra_keys: tuple[str, ...] = ()) -> Any:
    """``qs`` grouped by cell (customer attributes annotated under the cell's names)."""
    return qs.annotate(**_doc_cell()).values(*CELL, *extra_keys)


def _key(r: dict[str, Any], extra_keys: tuple[str, ...] = ()) -> tuple:
    return tuple(r[k] or (None if k != "risk_class" else "") for k in (*CELL, *extra_keys))


def _merge(target: dict[tuple, dict[str, Any]], key: tuple, values: dict[str, Any]) -> None:
    row = target.get(key)
    if row is None:
        row = target[key] = dict(zip(CELL, key[: len(CELL)], strict=True))
        row.update({m: Decimal(0) for m in MONEY})
        row.update({m: 0 for m in COUNTS})
    for k, v in values.items():
        row[k] = row.get(k, 0) + v


def live_positions(
    user: Any, f: KpiFilters, as_of: dt.date, buckets: Sequence[Bucket] = BUCKETS
) -> list[dict[str, Any]]:
    """Every stock measure at ``as_of`` by cell, from the ledger (docs/kpi.md for each definition)."""
    today = clock.today()
    out: dict[tuple, dict[str, Any]] = {}
    qs, o = sql.open_documents(sql.documents(user, f), as_of, today)
    s = sql.signed(o)
    at_risk = Q(customer__risk_class__in=sorted(domain.AT_RISK_CLASSES)) | (
        INVOICE & Q(due_date__lt=as_of - dt.timedelta(days=domain.AT_RISK_DAYS))
    )
    aggs: dict[str, Any] = {
        f"b{i}": Sum(Case(When(_bucket_q(b, as_of), then=s), default=sql.ZERO, output_field=AMOUNT))
        for i, b in enumerate(buckets)
    }
    aggs["at_risk"] = Sum(Case(When(at_risk, then=s), default=sql.ZERO, output_field=AMOUNT))
    aggs["disputed"] = Sum(Case(When(INVOICE & sql.disputed_q(as_of), then=o), default=sql.ZERO, output_field=AMOUNT))
    overdue = INVOICE & Q(due_date__lt=as_of)
    aggs["inv_open"] = Sum(o, filter=INVOICE)
    aggs["cn_open"] = Sum(o, filter=CREDIT_NOTE)
    aggs["od_amount"] = Sum(o, filter=overdue)
    counts = {
        "od_count": Count("pk", filter=overdue),
        "cust_open": Count("customer_id", distinct=True),
        "cust_od": Count("customer_id", distinct=True, filter=overdue),
    }
    for r in _rows(qs).annotate(**aggs, **counts).order_by():
        c = r["currency"]
        _merge(out, _key(r), {**{k: from_db(r[k], c) for k in aggs}, **{k: r[k] for k in counts}})

    pays, left = sql.unallocated_payments(sql.payments(user, f), as_of, today)
    for r in _rows(pays, ("kind",)).annotate(s=Sum(left)).order_by():
        name = "deposits" if r["kind"] == "deposit" else "unapplied"
        _merge(out, _key(r), {name: from_db(r["s"], r["currency"])})

    promises = extras.open_promises(user, f, as_of)
    if promises is not None:
        for r in _rows(promises).annotate(s=Sum("amount")).order_by():
            _merge(out, _key(r), {"under_promise": from_db(r["s"], r["currency"])})

    Factored = extras.model("risk.FactoredDocument")
    if Factored is not None:
        in_force = Factored.objects.filter(document=OuterRef("pk"), assigned_on__lte=as_of).filter(
            Q(released_on__isnull=True) | Q(released_on__gt=as_of)
        )
        for r in _rows(qs.filter(Exists(in_force))).annotate(s=Sum(s)).order_by():
            _merge(out, _key(r), {"factored": from_db(r["s"], r["currency"])})

    Cover = extras.model("risk.CreditInsuranceCover")
    if Cover is not None:
        _insured(out, qs, s, Cover, as_of)
    return list(out.values())


def _insured(out: dict[tuple, dict[str, Any]], qs: Any, s: Any, Cover: Any, as_of: dt.date) -> None:
    """Σ over customers of min(open balance, insured amount in force in that currency), by cell: an aggregate
    over the per-customer aggregate, one query per cell that has covered customers."""
    covers = (
        Cover.objects.filter(customer=OuterRef("customer_id"), currency=OuterRef("currency"), valid_from__lte=as_of)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=as_of))
        .order_by()
        .values("customer")
        .annotate(t=Sum("insured_amount"))
        .values("t")
    )
    covered = qs.filter(Exists(Cover.objects.filter(customer=OuterRef("customer_id"))))
    per_customer = (
        _rows(covered, ("customer_id",))
        .annotate(bal=Sum(s), cover=Min(Coalesce(Subquery(covers, output_field=AMOUNT), sql.ZERO)))
        .filter(bal__gt=0, cover__gt=0)
        .annotate(ins=Least("bal", "cover"))
        .order_by()
    )
    for r in per_customer.values(*CELL, "ins"):
        _merge(out, _key(r), {"insured": from_db(r["ins"], r["currency"])})


def live_flows(user: Any, f: KpiFilters, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Per day and cell: net sales (invoices − credit notes issued), what left the receivables (cash, non-cash),
    cash alone, and the payment-behaviour sums of cash allocations not reversed by ``last``."""
    out: dict[tuple, dict[str, Any]] = {}
    signed_amount = Case(When(CREDIT_NOTE, then=-F("amount")), default=F("amount"), output_field=AMOUNT)
    docs = sql.documents(user, f).filter(issue_date__gte=first, issue_date__lte=last).annotate(day=F("issue_date"))
    for r in _rows(docs, ("day",)).annotate(s=Sum(signed_amount)).order_by():
        _flow(out, r, {"sales": from_db(r["s"], r["currency"])})
    cash = Q(payment__isnull=False)
    effect = Case(
        When(cash, then=F("amount")),
        When(credit_note__isnull=False, then=sql.ZERO),
        When(target__type=DocumentType.INVOICE, then=F("amount")),
        default=-F("amount"),
        output_field=AMOUNT,
    )
    live = cash & Q(reverses__isnull=True) & ~Q(reversed_by__date__lte=last)
    late = Case(
        When(date__gt=F("target__due_date"), then=sql.DaysBetween(F("date"), F("target__due_date"))),
        default=Value(0),
    )
    allocs = sql.allocations(user, f).filter(date__gte=first, date__lte=last).annotate(day=F("date"))
    for r in (
        _rows(allocs, ("day",))
        .annotate(
            effect=Sum(effect),
            cash=Sum("amount", filter=cash),
            beh=Sum("amount", filter=live),
            beh_pay=Sum(F("amount") * sql.DaysBetween(F("date"), F("target__issue_date")), filter=live,
                        output_field=AMOUNT),
            beh_late=Sum(F("amount") * late, filter=live, output_field=AMOUNT),
        )
        .order_by()
    ):  # fmt: skip
        c = r["currency"]
        _flow(
            out,
            r,
            {
                "settled": from_db(r["effect"], c),
                "cash": from_db(r["cash"], c),
                **{k: _exact(r[k]) for k in FLOW_WEIGHTS},
            },
        )
    return list(out.values())


def _exact(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value or 0)


def _flow(out: dict[tuple, dict[str, Any]], r: dict[str, Any], values: dict[str, Decimal]) -> None:
    key = _key(r, ("day",))
    row = out.get(key)
    if row is None:
        row = out[key] = dict(zip((*CELL, "day"), key, strict=True))
        row.update({m: Decimal(0) for m in (*FLOW_MONEY, *FLOW_WEIGHTS)})
    for k, v in values.items():
        row[k] += v


def stored_positions(user: Any, f: KpiFilters, as_of: dt.date) -> list[dict[str, Any]]:
    from .models import DailyPosition

    qs = _narrow(scope.restrict(user, DailyPosition.objects.filter(date=as_of)), f)
    return list(qs.values(*CELL, *MONEY, *COUNTS))


def stored_flows(user: Any, f: KpiFilters, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Flows from the summary, already summed over the cells of the scope (by day and currency)."""
    from .models import DailyFlow

    qs = _narrow(scope.restrict(user, DailyFlow.objects.filter(date__gte=first, date__lte=last)), f)
    rows = qs.values("currency", "date").annotate(**{k: Sum(k) for k in (*FLOW_MONEY, *FLOW_WEIGHTS)}).order_by()
    out = []
    for r in rows:
        c = r["currency"]
        out.append(
            {
                "currency": c,
                "day": r["date"],
                **{k: from_db(r[k], c) for k in FLOW_MONEY},
                **{k: _exact(r[k]) for k in FLOW_WEIGHTS},
            }
        )
    return out


def _narrow(qs: Any, f: KpiFilters) -> Any:
    if f.company:
        qs = qs.filter(company__code=f.company.upper())
    if f.agency:
        qs = qs.filter(agency__code=f.agency.upper())
    if f.collector:
        qs = qs.filter(collector_id=f.collector)
    if f.risk_class:
        qs = qs.filter(risk_class="" if f.risk_class == "-" else f.risk_class.upper())
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs.order_by()


def cells(rows: Iterable[dict[str, Any]]) -> int:
    return sum(1 for _ in rows)


def live_customers(user: Any, f: KpiFilters, as_of: dt.date) -> list[dict[str, Any]]:
    """Per customer and currency (with its cell): aged open items at ``as_of`` and its overdue invoices."""
    qs, o = sql.open_documents(sql.documents(user, f), as_of, clock.today())
    s = sql.signed(o)
    overdue = INVOICE & Q(due_date__lt=as_of)
    aggs: dict[str, Any] = {
        f"b{i}": Sum(Case(When(_bucket_q(b, as_of), then=s), default=sql.ZERO, output_field=AMOUNT))
        for i, b in enumerate(BUCKETS)
    }
    aggs["total"] = Sum(s)
    aggs["od_amount"] = Sum(o, filter=overdue)
    out = []
    for r in (
        _rows(qs, ("customer_id",))
        .annotate(**aggs, od_count=Count("pk", filter=overdue), oldest_due=Min("due_date", filter=overdue))
        .order_by()
    ):
        c = r["currency"]
        row = {k: r[k] for k in (*CELL, "customer_id", "od_count", "oldest_due")}
        row["risk_class"] = row["risk_class"] or ""
        row.update({k: from_db(r[k], c) for k in aggs})
        out.append(row)
    return out


def stored_customers(user: Any, f: KpiFilters, as_of: dt.date) -> Any:
    from .models import DailyCustomer

    return _narrow(scope.restrict(user, DailyCustomer.objects.filter(date=as_of)), f)
