"""The home page: the dashboard of the user's scope (KPIs, charts, drill-down), then what their role acts on first."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relance.analytics import dashboard, report, summaries
from relance.analytics.sql import KpiFilters
from relance.core import clock, errors, scope
from relance.core.vocab import RiskClass, Role
from relance.ledger import rates
from relance.ledger import selectors as ledger_selectors
from relance.orgs.models import Agency, Company
from relance.web import queries

from .common import home_layout
from .customers import filter_options

TOP_OVERDUE = 20
PORTFOLIO_OVERDUE = 100
FILTERS = ("date", "company", "agency", "collector", "risk_class", "currency")


def dashboard_params(request: HttpRequest) -> tuple[report.Params, str]:
    """The filter bar's values; on a bad one, the unfiltered dashboard of today and the message."""
    today = clock.today()
    data = {k: request.GET.get(k, "") for k in FILTERS}
    data["document_currency"] = data["currency"]  # the page's currency filter also sets the presentation
    try:
        return report.parse_params(data, today=today), ""
    except errors.ValidationError as exc:
        return report.Params(today, KpiFilters(), None), exc.message


def _filter_options(user: Any, board: Any) -> dict[str, Any]:
    """The filter bar's choices; the currencies come from the dashboard's cells (no scan of the open items)."""
    if board is None:
        return filter_options(user)
    collectors = (
        ledger_selectors.customers(user)
        .filter(collector__isnull=False)
        .order_by("collector__last_name", "collector__first_name", "collector__email")
        .values_list("collector_id", "collector__first_name", "collector__last_name", "collector__email")
        .distinct()
    )
    companies = scope.restrict(user, Company.objects.all()).order_by("code")
    return {
        "companies": companies,
        "agencies": scope.restrict(user, Agency.objects.select_related("company")).order_by("code"),
        "collectors": [(pk, f"{first} {last}".strip() or email) for pk, first, last, email in collectors],
        "currencies": sorted({c.currency for c in companies} | {r["currency"] for r in board.result.cells}),
        "show_collector_filter": user.is_superuser or user.role != Role.COLLECTOR,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    with summaries.one_mark():  # the summaries' freshness is checked against one read of the ledger
        return _home(request)


def _home(request: HttpRequest) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    layout = home_layout(user)
    params, problem = dashboard_params(request)
    context: dict = {"as_of": as_of, "layout": layout, "filter_error": problem, "params": params}
    try:
        context["board"] = dashboard.build(user, params, with_risk=layout != "collector")
    except rates.RateMissing as exc:
        context["board"], context["filter_error"] = None, exc.message
    board = context["board"]
    # the per-currency and per-company/agency tables come from the dashboard's cells (its date and filters)
    cells = board.result.cells if board is not None else None
    totals = dashboard.totals_from_cells(cells) if cells is not None else queries.scope_totals(user, as_of=as_of)
    context.update(
        totals=totals,
        customer_count=queries.customer_count(user),
        overdue_customer_count=dashboard.overdue_customer_count(user, as_of=as_of),
        overdue_invoice_count=sum(t.overdue_invoices for t in totals),
        risk_classes=RiskClass.choices,
        export_query=request.GET.urlencode(),
        **_filter_options(user, board),
    )
    if layout == "collector":
        context["overdue_customers"] = dashboard.overdue_customers(user, as_of=as_of, limit=TOP_OVERDUE)
    elif layout == "portfolio":
        context["overdue_customers"] = dashboard.overdue_customers(user, as_of=as_of, limit=PORTFOLIO_OVERDUE)
        if user.role == Role.AGENCY_MANAGER:
            context["by_agency"] = (
                dashboard.totals_from_cells(cells, "agency")
                if cells is not None
                else queries.totals_by(user, as_of=as_of, by="agency")
            )
    else:
        context["by_company"] = (
            dashboard.totals_from_cells(cells, "company")
            if cells is not None
            else queries.totals_by(user, as_of=as_of, by="company")
        )
        context["overdue_customers"] = dashboard.overdue_customers(user, as_of=as_of, limit=10)
    context["overdue_limit"] = {"collector": TOP_OVERDUE, "portfolio": PORTFOLIO_OVERDUE}.get(layout, 10)
    return render(request, "web/home.html", context)
