"""The home page: the dashboard of the user's scope (KPIs, charts, drill-down), then what their role acts on first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relance.analytics import dashboard, report
from relance.analytics.sql import KpiFilters
from relance.core import clock, errors
from relance.core.vocab import RiskClass, Role
from relance.ledger import rates, selectors
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


@login_required
def home(request: HttpRequest) -> HttpResponse:
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
        overdue_customer_count=(
            selectors.documents(user, selectors.DocumentFilters(overdue=True), as_of=as_of)
            .order_by()
            .values("customer_id")
            .distinct()
            .count()
        ),
        overdue_invoice_count=sum(t.overdue_invoices for t in totals),
        risk_classes=RiskClass.choices,
        export_query=request.GET.urlencode(),
        **filter_options(user),
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
