"""Exports of the dashboard's tables (CSV/XLSX), with the dashboard's filters, within the user's scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from relance.analytics import dashboard, exports, forecast, selectors
from relance.core import scope
from relance.ledger.domain import DEFAULT_BUCKETS

from .home import dashboard_params
from .transfer import CONTENT_TYPES

KINDS = ("kpi", "aging", "forecast", "customers")


@login_required
def dashboard_export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in KINDS or fmt not in exports.FORMATS:
        raise Http404()
    user = request.user
    if not scope.can(user, "export"):
        raise PermissionDenied
    params, _problem = dashboard_params(request)
    f, as_of = params.filters, params.as_of
    currency = params.currency or f.currency or selectors.group_currency()
    if kind in ("kpi", "aging"):
        from relance.analytics import report

        data = report.as_json(selectors.kpis(user, as_of=as_of, filters=f, currency=currency, trend=kind == "kpi"))
        export = exports.kpi_export(data) if kind == "kpi" else exports.dashboard_aging_export(data)
    elif kind == "forecast":
        export = exports.forecast_export(
            forecast.cash_forecast(user, as_of=as_of, filters=f, currency=currency), currency
        )
    else:
        rows = dashboard.aged_by_customer(user, as_of=as_of, filters=f, currency=currency, limit=None)
        export = exports.customers_aging_export(rows, [b.name for b in DEFAULT_BUCKETS])
    body = exports.render(export, fmt)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="relance-{export.name}-{as_of.isoformat()}.{fmt}"'
    return response


@login_required
def customer_statement(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """A customer's statement of account (open items, aged, in the customer's own currency)."""
    from relance.analytics import customer as customer_analytics
    from relance.ledger import selectors as ledger

    from .common import visible_or_404

    if fmt not in exports.FORMATS:
        raise Http404()
    if not scope.can(request.user, "export"):
        raise PermissionDenied
    customer = visible_or_404(ledger.customer, request.user, pk)
    export = customer_analytics.statement(request.user, customer)
    response = HttpResponse(exports.render(export, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="relance-{export.name}.{fmt}"'
    return response
