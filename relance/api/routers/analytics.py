"""KPIs of the caller's scope: ``GET /kpi``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from relance.analytics import report, selectors, summaries
from relance.api import problems
from relance.api.auth import actor
from relance.core import clock, errors, scope

router = Router(tags=["analytics"])

PARAMS = ("date", "company", "agency", "collector", "risk_class", "document_currency", "currency")


@router.get(
    "/kpi",
    response={200: dict[str, Any], **problems.responses(403, 422)},
    summary="Receivables KPIs",
    description=(
        "The KPIs of the caller's scope at `date` (default today): `total_receivables`, `not_due`, `overdue`, "
        "`aging` (a list of `{bucket, min_days, max_days, amount}`), `dso_countback`, `dso_standard`, "
        "`dso_trend`, `average_days_of_payment`, `average_days_beyond_terms`, `cei` (0-100), "
        "`collection_rate`, `disputed`, `under_promise`, `unapplied_cash`, `deposits`, `by_risk_class`, "
        "`at_risk`, `insured`, `factored`. Amounts and ratios are decimal strings (null when undefined), in "
        "`currency`: the group currency, or the `currency` parameter, converted at the reference rates of the "
        "date. Filters: `company`, `agency` (codes), `collector` (user id), `risk_class`, `document_currency`. "
        "Formulas: docs/kpi.md."
    ),
)
def get_kpi(
    request: HttpRequest,
    date: str = "",
    company: str = "",
    agency: str = "",
    collector: str = "",
    risk_class: str = "",
    document_currency: str = "",
    currency: str = "",
) -> dict[str, Any]:
    user = actor(request)
    scope.require(user, "view")
    unknown = sorted(set(request.GET) - set(PARAMS))
    if unknown:
        raise problems.invalid_request(
            [
                problems.FieldError(("query", n), f"Unknown parameter; accepted: {', '.join(PARAMS)}.", "unknown")
                for n in unknown
            ]
        )
    try:
        params = report.parse_params(request.GET, today=clock.today())
    except errors.ValidationError as exc:
        raise problems.invalid_request([problems.FieldError(("query", exc.field or ""), exc.message, "invalid")])
    with summaries.one_mark():
        result = selectors.kpis(user, as_of=params.as_of, filters=params.filters, currency=params.currency, trend=True)
    return report.as_json(result)
