"""The home page: the user's totals, then what their role acts on first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relance.core import clock
from relance.core.vocab import Role
from relance.web import queries

from .common import home_layout

TOP_OVERDUE = 20
PORTFOLIO_OVERDUE = 100


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    layout = home_layout(user)
    totals = queries.scope_totals(user, as_of=as_of)
    context: dict = {
        "as_of": as_of,
        "layout": layout,
        "totals": totals,
        "customer_count": queries.customer_count(user),
        "overdue_customer_count": queries.customer_count(user, overdue_at=as_of),
        "overdue_invoice_count": sum(t.overdue_invoices for t in totals),
    }
    if layout == "collector":
        context["overdue_customers"] = queries.overdue_customers(user, as_of=as_of, limit=TOP_OVERDUE)
    elif layout == "portfolio":
        context["overdue_customers"] = queries.overdue_customers(user, as_of=as_of, limit=PORTFOLIO_OVERDUE)
        if user.role == Role.AGENCY_MANAGER:
            context["by_agency"] = queries.totals_by(user, as_of=as_of, by="agency")
    else:
        context["by_company"] = queries.totals_by(user, as_of=as_of, by="company")
        context["overdue_customers"] = queries.overdue_customers(user, as_of=as_of, limit=10)
    context["overdue_limit"] = {"collector": TOP_OVERDUE, "portfolio": PORTFOLIO_OVERDUE}.get(layout, 10)
    return render(request, "web/home.html", context)
