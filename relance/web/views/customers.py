"""Customer list and the customer 360 page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from relance.analytics import customer as customer_analytics
from relance.collections.models import Dispute
from relance.core import clock, scope
from relance.core.vocab import DocumentType, Role
from relance.ledger import domain, selectors
from relance.ml import selectors as ml_selectors
from relance.orgs.models import Agency, Company
from relance.portal import selectors as portal_selectors
from relance.web import queries
from relance.web.forms import SORT_CUSTOMERS, CustomerFilterForm

from . import risk as risk_views
from .collections import customer_section as collections_section
from .common import label_disputes, paginate, visible_or_404

OPEN_ITEMS_LIMIT = 500
PAYMENTS_LIMIT = 25
ACTIVITY_LIMIT = 50


def filter_options(user: Any) -> dict[str, Any]:
    """The choices of the filter bar, drawn from what the user may see."""
    collectors = (
        selectors.customers(user)
        .filter(collector__isnull=False)
        .order_by("collector__last_name", "collector__first_name", "collector__email")
        .values_list("collector_id", "collector__first_name", "collector__last_name", "collector__email")
        .distinct()
    )
    return {
        "companies": scope.restrict(user, Company.objects.all()).order_by("code"),
        "agencies": scope.restrict(user, Agency.objects.select_related("company")).order_by("code"),
        "collectors": [(pk, f"{first} {last}".strip() or email) for pk, first, last, email in collectors],
        "currencies": queries.currencies(user),
        "show_collector_filter": user.is_superuser or user.role != Role.COLLECTOR,
    }


def _sorted(user: Any, qs: QuerySet, sort: str, as_of: Any) -> QuerySet:
    if sort == "name":
        return qs.order_by("name", "reference")
    if sort == "oldest_overdue":
        oldest_due = (
            selectors.documents(user, selectors.DocumentFilters(overdue=True), as_of=as_of)
            .filter(customer_id=OuterRef("pk"))
            .order_by("due_date")
            .values("due_date")[:1]
        )
        return qs.annotate(oldest_due=Subquery(oldest_due)).order_by(
            F("oldest_due").asc(nulls_last=True), "company__code", "reference"
        )
    return qs  # the selector's order: company, reference


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    form = CustomerFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        customers = selectors.customers(user).none()
    else:
        filters = form.filters() if form.is_bound else selectors.CustomerFilters()
        customers = selectors.customers(user, filters, as_of=as_of)
    sort = form.sort_key if form.is_bound else SORT_CUSTOMERS[0][0]
    page = paginate(request, _sorted(user, customers, sort, as_of))
    figures = queries.customer_figures(user, [c.pk for c in page], as_of=as_of)
    risk_views.attach_credit(list(page))  # class and limit utilisation per row (two queries for the page)
    rows = [(c, figures.get(c.pk, queries.CustomerSummary())) for c in page]
    return render(
        request,
        "web/customer_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "sort": sort,
            "sort_choices": SORT_CUSTOMERS,
            "as_of": as_of,
            **filter_options(user),
        },
    )


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    customer = visible_or_404(selectors.customer, user, pk)
    open_items = list(
        selectors.documents(user, selectors.DocumentFilters(customer=customer.pk, status="open")).order_by(
            "due_date", "number"
        )[:OPEN_ITEMS_LIMIT]
    )
    for doc in open_items:
        doc.days_overdue = domain.days_overdue(doc.due_date, as_of) if doc.type == DocumentType.INVOICE else 0
    open_count = selectors.documents(user, selectors.DocumentFilters(customer=customer.pk, status="open")).count()
    payments_qs = selectors.payments(user, selectors.PaymentFilters(customer=customer.pk))
    payments = list(
        payments_qs.prefetch_related(
            Prefetch(
                "allocations",
                queryset=selectors.allocations(user).order_by("date", "id"),
                to_attr="visible_allocations",
            )
        )[:PAYMENTS_LIMIT]
    )
    disputes = label_disputes(
        scope.restrict(user, Dispute.objects.filter(customer_id=customer.pk))
        .select_related("owner")
        .prefetch_related(Prefetch("documents", queryset=selectors.documents(user)))
    )
    activity = list(selectors.activity(user, customer_id=customer.pk).select_related("actor")[:ACTIVITY_LIMIT])
    return render(
        request,
        "web/customer_detail.html",
        {
            "customer": customer,
            "as_of": as_of,
            "contacts": selectors.contacts(user, customer.pk),
            "balances": selectors.customer_balances(user, customer, as_of=as_of),
            "open_items": open_items,
            "open_count": open_count,
            "open_items_limit": OPEN_ITEMS_LIMIT,
            "payments": payments,
            "payment_count": payments_qs.count(),
            "payments_limit": PAYMENTS_LIMIT,
            "disputes": disputes,
            "activity": activity,
            "activity_limit": ACTIVITY_LIMIT,
            "portal": portal_selectors.for_staff(user, customer),
            "analytics": customer_analytics.panel(user, customer, as_of=as_of),
            "ml": ml_selectors.customer_section(user, customer.pk),
            "collections": collections_section(user, customer),
            "risk": risk_views.customer_section(request, customer),
        },
    )
