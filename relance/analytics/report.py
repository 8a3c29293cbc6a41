"""The KPI figures as JSON-ready data: the one shape shared by `relance kpi --json`, `GET /api/v1/kpi` and the
dashboard's data attributes (so that the three agree by construction, and a test checks they do)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from relance.core import errors
from relance.core.money import is_currency
from relance.core.vocab import RiskClass
from relance.orgs.models import Agency, Company

from .selectors import KpiResult
from .sql import KpiFilters


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def as_json(result: KpiResult) -> dict[str, Any]:
    k = result.kpis
    return {
        "as_of": k.as_of.isoformat(),
        "currency": k.currency,
        "filters": result.filters.query(),
        "total_receivables": _s(k.total_receivables),
        "not_due": _s(k.not_due),
        "overdue": _s(k.overdue),
        "overdue_invoices": k.overdue_invoices,
        "aging": [
            {"bucket": a.bucket, "min_days": a.min_days, "max_days": a.max_days, "amount": _s(a.amount)}
            for a in k.aging
        ],
        "dso_countback": _s(k.dso_countback),
        "dso_standard": _s(k.dso_standard),
        "dso_trend": [
            {"month_end": day.isoformat(), "dso_standard": _s(dso), "receivables": _s(rec)}
            for day, dso, rec in (result.trend or [])
        ],
        "average_days_of_payment": _s(k.average_days_of_payment),
        "average_days_beyond_terms": _s(k.average_days_beyond_terms),
        "cei": _s(k.cei),
        "collection_rate": _s(k.collection_rate),
        "collected_30_days": _s(k.collected),
        "sales_90_days": _s(k.sales_90),
        "disputed": _s(k.disputed),
        "under_promise": _s(k.under_promise),
        "unapplied_cash": _s(k.unapplied_cash),
        "deposits": _s(k.deposits),
        "by_risk_class": [{"risk_class": c or None, "amount": _s(v)} for c, v in k.by_risk_class.items()],
        "at_risk": _s(k.at_risk),
        "insured": _s(k.insured),
        "factored": _s(k.factored),
    }


UNKNOWN_CODE = "Unknown {what} code {code!r}."
BAD_DATE = "{value!r} is not a date: use YYYY-MM-DD."
FUTURE_DATE = "{value} is after today ({today}): KPIs are computed for today or a past date."
BAD_CURRENCY = "{value!r} is not an ISO 4217 currency code."
BAD_RISK_CLASS = "{value!r} is not a risk class (A, B, C, D, E, X, or - for none)."
BAD_COLLECTOR = "{value!r} is not a collector id."


@dataclass(frozen=True)
class Params:
    as_of: dt.date
    filters: KpiFilters
    currency: str | None


def parse_params(data: Mapping[str, Any], *, today: dt.date) -> Params:
    """Dashboard/API/CLI parameters (strings) → typed values; a bad one raises ValidationError naming it."""

    def get(name: str) -> str:
        value = data.get(name)
        return "" if value is None else str(value).strip()

    as_of = today
    if get("date"):
        try:
            as_of = dt.date.fromisoformat(get("date"))
        except ValueError:
            raise errors.ValidationError(BAD_DATE.format(value=get("date")), field="date")
        if as_of > today:
            raise errors.ValidationError(FUTURE_DATE.format(value=as_of, today=today), field="date")
    for name in ("currency", "document_currency"):
        if get(name) and not is_currency(get(name).upper()):
            raise errors.ValidationError(BAD_CURRENCY.format(value=get(name)), field=name)
    risk = get("risk_class").upper()
    if risk and risk != "-" and risk not in RiskClass.values:
        raise errors.ValidationError(BAD_RISK_CLASS.format(value=get("risk_class")), field="risk_class")
    company, agency = get("company").upper(), get("agency").upper()
    if company and not Company.objects.filter(code=company).exists():
        raise errors.ValidationError(UNKNOWN_CODE.format(what="company", code=company), field="company")
    if agency and not Agency.objects.filter(code=agency).exists():
        raise errors.ValidationError(UNKNOWN_CODE.format(what="agency", code=agency), field="agency")
    collector = None
    if get("collector"):
        try:
            collector = int(get("collector"))
        except ValueError:
            raise errors.ValidationError(BAD_COLLECTOR.format(value=get("collector")), field="collector")
    filters = KpiFilters(
        company=company,
        agency=agency,
        collector=collector,
        currency=get("document_currency").upper(),
        risk_class=risk,
        customer=int(get("customer")) if get("customer").isdigit() else None,
    )
    return Params(as_of, filters, get("currency").upper() or None)
