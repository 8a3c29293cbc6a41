"""Set-based reads that feed the scoring: a handful of GROUP BY queries for any number of customers.

These are system reads (the daily job, the rescore command, the credit check after its scope check): they
take customer ids, not a user. The behaviour aggregates mirror :func:`relance.risk.domain.stats_from_items`
(tests compare both). Amounts are weights and shares here, in the documents' currencies; exposure
(:func:`exposures`) is converted to the company's currency at the reference rates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, FloatField, Func, IntegerField, Min, Q, Sum, Value, When
from django.db.models.functions import Greatest

from relance.core.money import quantize
from relance.core.vocab import DocumentType, PaymentKind
from relance.ledger import rates
from relance.ledger.models import Document, Payment

from . import domain
from .models import CustomerRisk, ExternalScore, FinancialStatement, LegalEvent, Order, OrderStatus

D0 = Decimal(0)
MONEY = DecimalField(max_digits=18, decimal_places=3)


class DaysBetween(Func):
    """Whole days from ``start`` to ``end`` (``end - start``), on SQLite and PostgreSQL."""

    output_field = IntegerField()

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        end, start = (compiler.compile(e) for e in self.source_expressions)
        return f"CAST(julianday({end[0]}) - julianday({start[0]}) AS INTEGER)", (*end[1], *start[1])

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        end, start = (compiler.compile(e) for e in self.source_expressions)
        return f"({end[0]} - {start[0]})", (*end[1], *start[1])


def _dec(value: Any) -> Decimal:
    if value is None:
        return D0
    return Decimal(str(round(value, 6))) if isinstance(value, float) else Decimal(value)


Ids = range | list[int] | None  # a range of ids (a full pass, by id range) or a list (changed customers)


def ids_q(customer_ids: Ids, field: str = "customer_id") -> Q:
    """A filter on customer ids: none, an id range (no bound parameters per id), or a list."""
    if customer_ids is None:
        return Q()
    if isinstance(customer_ids, range):
        return Q(**{f"{field}__gte": customer_ids.start, f"{field}__lt": customer_ids.stop})
    return Q(**{f"{field}__in": list(customer_ids)})


def _ids(customer_ids: Iterable[int] | None) -> Ids:
    if customer_ids is None or isinstance(customer_ids, range):
        return customer_ids
    return list(customer_ids)


@dataclass(frozen=True)
class LedgerFigures:
    stats: domain.BehaviourStats
    sales_12m: Decimal
    months_of_history: int


def ledger_figures(
    customer_ids: Iterable[int] | None, *, as_of: dt.date, cfg: dict[str, Any], chunk: int = 20000
) -> dict[int, LedgerFigures]:
    """Behaviour aggregates and sales of the last 12 months, per customer, in one pass over the invoices."""
    ids = _ids(customer_ids)
    if isinstance(ids, list) and len(ids) > chunk:
        out: dict[int, LedgerFigures] = {}
        for i in range(0, len(ids), chunk):
            out.update(ledger_figures(ids[i : i + chunk], as_of=as_of, cfg=cfg, chunk=chunk))
        return out
    b = cfg["behaviour"]
    lookback_start = as_of - dt.timedelta(days=int(b["lookback_days"]))
    recent_start = as_of - dt.timedelta(days=int(b["recent_days"]))
    year_start = as_of - dt.timedelta(days=365)
    grace = int(b["grace_days"])
    settled = Q(settled_on__gt=lookback_start, settled_on__lte=as_of)
    recent, prior = settled & Q(settled_on__gt=recent_start), settled & Q(settled_on__lte=recent_start)
    whens = []
    for bound, weight in sorted(((int(k), v) for k, v in b["recency_weights"].items())):
        whens.append(When(settled_on__gt=as_of - dt.timedelta(days=bound), then=Value(float(weight))))
    weight = Case(*whens, default=Value(0.0), output_field=FloatField())
    qs = (
        Document.objects.filter(ids_q(ids), type=DocumentType.INVOICE)
        .filter(settled | Q(open_amount__gt=0) | Q(issue_date__gt=year_start, issue_date__lte=as_of))
        .alias(days=DaysBetween(F("settled_on"), F("due_date")), w=weight)
        .values("customer_id")
        .annotate(
            weight=Sum(F("amount") * F("w"), filter=settled, output_field=FloatField()),
            wdays=Sum(F("amount") * F("w") * Greatest(F("days"), Value(0)), filter=settled, output_field=FloatField()),
            rn=Count("pk", filter=recent),
            rlate=Count("pk", filter=recent & Q(days__gt=grace)),
            rsum=Sum("days", filter=recent),
            rsum2=Sum(F("days") * F("days"), filter=recent),
            pn=Count("pk", filter=prior),
            plate=Count("pk", filter=prior & Q(days__gt=grace)),
            psum=Sum("days", filter=prior),
            psum2=Sum(F("days") * F("days"), filter=prior),
            open=Sum("open_amount", filter=Q(open_amount__gt=0), output_field=FloatField()),
            overdue=Sum("open_amount", filter=Q(open_amount__gt=0, due_date__lt=as_of), output_field=FloatField()),
            oldest=Min("due_date", filter=Q(open_amount__gt=0, due_date__lt=as_of)),
            sales=Sum("amount", filter=Q(issue_date__gt=year_start, issue_date__lte=as_of), output_field=FloatField()),
            first=Min("issue_date", filter=Q(issue_date__gt=year_start, issue_date__lte=as_of)),
        )
        .order_by()
    )
    out = {}
    for r in qs:
        oldest = r["oldest"]
        first = r["first"]
        months = 0
        if first is not None:
            months = min(12, max(1, domain.months_between(first, as_of) + 1))
        stats = domain.BehaviourStats(
            weight=_dec(r["weight"]),
            weighted_days=_dec(r["wdays"]),
            recent=domain.WindowStats(r["rn"], r["rlate"], _dec(r["rsum"]), _dec(r["rsum2"])),
            prior=domain.WindowStats(r["pn"], r["plate"], _dec(r["psum"]), _dec(r["psum2"])),
            open_amount=_dec(r["open"]),
            overdue_amount=_dec(r["overdue"]),
            oldest_overdue_days=(as_of - oldest).days if oldest else 0,
        )
        out[r["customer_id"]] = LedgerFigures(stats, _dec(r["sales"]), months)
    return out


def promise_and_dispute_counts(
    customer_ids: Iterable[int] | None, *, as_of: dt.date, cfg: dict[str, Any]
) -> tuple[dict[int, int], dict[int, int]]:
    """Broken promises (last ``lookback_days``) and open disputes, per customer."""
    from relance.collections.models import Dispute, DisputeStatus, Promise, PromiseStatus

    ids = _ids(customer_ids)
    since = as_of - dt.timedelta(days=int(cfg["behaviour"]["lookback_days"]))
    broken = dict(
        Promise.objects.filter(ids_q(ids), status=PromiseStatus.BROKEN, resolved_on__gt=since, resolved_on__lte=as_of)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("customer_id", "n")
    )
    disputes = dict(
        Dispute.objects.filter(ids_q(ids), status=DisputeStatus.OPEN)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("customer_id", "n")
    )
    return broken, disputes


@dataclass(frozen=True)
class EntityInputs:
    financials: domain.Financials | None
    financials_currency: str
    legal_events: tuple[domain.LegalEventIn, ...]
    external: tuple[domain.ExternalScoreIn, ...]
    provider_limit: Decimal | None
    provider_limit_currency: str


def entity_inputs(entity_ids: Iterable[int], *, as_of: dt.date) -> dict[int, EntityInputs]:
    """Latest financial statement, legal events and external scores per legal entity."""
    ids = sorted(set(entity_ids))
    if not ids:
        return {}
    wanted = set(ids)
    # one id range instead of thousands of bound parameters; rows outside ``wanted`` are skipped below
    span = Q(legal_entity_id__gte=ids[0], legal_entity_id__lte=ids[-1])
    if len(ids) < 500:
        span = Q(legal_entity_id__in=ids)
    fin: dict[int, FinancialStatement] = {}
    for f in FinancialStatement.objects.filter(span, fiscal_year_end__lte=as_of).order_by(
        "legal_entity_id", "fiscal_year_end"
    ):
        if f.legal_entity_id in wanted:
            fin[f.legal_entity_id] = f  # the last one wins: the latest
    events: dict[int, list[domain.LegalEventIn]] = defaultdict(list)
    for e in LegalEvent.objects.filter(span, published_on__lte=as_of).values(
        "legal_entity_id", "kind", "published_on", "judgment_date"
    ):
        if e["legal_entity_id"] not in wanted:
            continue
        events[e["legal_entity_id"]].append(domain.LegalEventIn(e["kind"], e["published_on"], e["judgment_date"]))
    external: dict[int, list[domain.ExternalScoreIn]] = defaultdict(list)
    limits: dict[int, tuple[dt.date, Decimal | None, str]] = {}
    for s in ExternalScore.objects.filter(span, as_of__lte=as_of).values(
        "legal_entity_id", "provider", "score", "as_of", "recommended_limit", "currency"
    ):
        if s["legal_entity_id"] not in wanted:
            continue
        external[s["legal_entity_id"]].append(domain.ExternalScoreIn(s["provider"], s["score"], s["as_of"]))
        if s["recommended_limit"] is not None:
            known = limits.get(s["legal_entity_id"])
            if known is None or s["as_of"] > known[0]:
                limits[s["legal_entity_id"]] = (s["as_of"], Decimal(s["recommended_limit"]), s["currency"])
    out = {}
    for eid in ids:
        f = fin.get(eid)
        fin_value = (
            domain.Financials(
                f.fiscal_year_end,
                Decimal(f.total_assets),
                Decimal(f.total_liabilities),
                Decimal(f.equity),
                Decimal(f.working_capital),
                Decimal(f.retained_earnings),
                Decimal(f.ebit),
                Decimal(f.sales),
                Decimal(f.cash),
            )
            if f
            else None
        )
        limit = limits.get(eid)
        out[eid] = EntityInputs(
            fin_value,
            f.currency if f else "",
            tuple(events.get(eid, ())),
            tuple(external.get(eid, ())),
            limit[1] if limit else None,
            limit[2] if limit else "",
        )
    return out


class RateCache:
    """Conversion to company currencies at the reference rates of one day, each rate read once."""

    def __init__(self, day: dt.date) -> None:
        self.day = day
        self._rates: dict[str, Decimal | None] = {}

    def rate(self, currency: str) -> Decimal | None:
        if currency not in self._rates:
            try:
                self._rates[currency] = rates.rate_on(currency, self.day)
            except rates.RateMissing:
                self._rates[currency] = None
        return self._rates[currency]

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal:
        """``amount`` in ``target``; at face value when a rate is missing (logged in docs/risk.md)."""
        if source == target or not amount:
            return amount
        src, dst = self.rate(source), self.rate(target)
        if src is None or dst is None:
            return amount
        return quantize(amount * rates.cross_rate(src, dst), target)


@dataclass(frozen=True)
class Exposure:
    receivables: Decimal
    orders: Decimal
    deposits: Decimal
    currency: str

    @property
    def total(self) -> Decimal:
        return self.receivables + self.orders - self.deposits


def exposures(customers: dict[int, str], *, as_of: dt.date, cache: RateCache | None = None) -> dict[int, Exposure]:
    """Exposure per customer (``{customer_id: company currency}``): open invoices less open credit notes,
    plus open orders, less unapplied deposits; in the company's currency."""
    cache = cache or RateCache(as_of)
    ids = list(customers)
    parts: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"receivables": D0, "orders": D0, "deposits": D0})
    signed = Case(
        When(type=DocumentType.CREDIT_NOTE, then=-F("open_amount")), default=F("open_amount"), output_field=MONEY
    )
    docs = (
        Document.objects.filter(customer_id__in=ids, open_amount__gt=0)
        .values("customer_id", "currency")
        .annotate(part=Value("receivables"), total=Sum(signed))
        .order_by()
    )
    orders = (
        Order.objects.filter(customer_id__in=ids, status=OrderStatus.OPEN)
        .values("customer_id", "currency")
        .annotate(part=Value("orders"), total=Sum("amount", output_field=MONEY))
        .order_by()
    )
    deposits = (
        Payment.objects.filter(
            customer_id__in=ids, kind=PaymentKind.DEPOSIT, unallocated_amount__gt=0, returned_on__isnull=True
        )
        .values("customer_id", "currency")
        .annotate(part=Value("deposits"), total=Sum("unallocated_amount", output_field=MONEY))
        .order_by()
    )
    if ids:
        for r in docs.union(orders, deposits, all=True):  # one query
            target = customers[r["customer_id"]]
            value = cache.convert(quantize(_dec(r["total"]), r["currency"]), r["currency"], target)
            parts[r["customer_id"]][r["part"]] += value
    return {
        cid: Exposure(
            quantize(parts[cid]["receivables"], cur),
            quantize(parts[cid]["orders"], cur),
            quantize(parts[cid]["deposits"], cur),
            cur,
        )
        for cid, cur in customers.items()
    }


def effective_limit(risk: CustomerRisk | None, as_of: dt.date) -> Decimal | None:
    """The granted limit while valid, else the recommended one (None: never assessed)."""
    if risk is None:
        return None
    if risk.granted_limit is not None and (risk.granted_expires_on is None or risk.granted_expires_on >= as_of):
        return Decimal(risk.granted_limit)
    return Decimal(risk.recommended_limit) if risk.recommended_limit is not None else None
