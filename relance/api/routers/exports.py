"""Exports for the ERP and spreadsheets: ``GET /exports/{kind}?format=csv|xlsx``."""

from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router

from relance.analytics import exports
from relance.api import problems
from relance.api.auth import actor
from relance.core import clock, scope

router = Router(tags=["exports"])

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/exports/{kind}",
    response={200: None, **problems.responses(403, 404)},
    summary="Export customers, open items or the aged balance",
    description=(
        "`customers` (with payer profile, risk class and balances per currency, to inject back into the ERP), "
        "`open-items` (every open invoice and credit note, credit notes negative) or `aged-balance` (by customer "
        "and currency, default buckets), as CSV (UTF-8 with BOM, comma, decimal point) or XLSX. Exactly the "
        "caller's scope, as of today."
    ),
)
def export(
    request: HttpRequest,
    kind: Literal["customers", "open-items", "aged-balance"],
    format: Literal["csv", "xlsx"] = "csv",  # noqa: A002 - the public parameter name
) -> HttpResponse:
    user = actor(request)
    scope.require(user, "export")
    today = clock.today()
    body = exports.render(exports.EXPORTS[kind](user, as_of=today), format)
    response = HttpResponse(body, content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="relance-{kind}-{today.isoformat()}.{format}"'
    return response
