"""Money received: ``GET /payments`` and ``GET /payments/{payment_id}``."""

from dataclasses import replace

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from relance.api import problems
from relance.api.auth import actor
from relance.api.pagination import Pagination
from relance.api.schemas import PaymentDetailOut, PaymentOut, PaymentQuery
from relance.ledger import selectors
from relance.ledger.models import Payment

from ._common import reject_unknown_params, stable

router = Router(tags=["payments"])


@router.get(
    "/payments",
    response={200: list[PaymentOut], **problems.responses()},
    summary="List payments",
    description="Payments and deposits of the customers the caller may see, ordered by id. Unidentified "
    "payments (customer null) are listed to callers who see whole companies.",
)
@paginate(Pagination)
def list_payments(request: HttpRequest, filters: Query[PaymentQuery]) -> QuerySet[Payment]:
    reject_unknown_params(request, PaymentQuery)
    user = actor(request)
    wanted = filters.to_filters()
    if filters.unallocated:
        return stable(selectors.payments(user, replace(wanted, unallocated=True)))
    payments = selectors.payments(user, wanted)
    if filters.unallocated is False:
        unallocated = selectors.payments(user, selectors.PaymentFilters(unallocated=True))
        payments = payments.exclude(pk__in=unallocated.values("pk"))
    return stable(payments)


@router.get(
    "/payments/{payment_id}",
    response={200: PaymentDetailOut, **problems.responses(404)},
    summary="Get a payment",
    description="One payment with its allocations. An id the caller may not see answers 404, as a missing one does.",
)
def get_payment(request: HttpRequest, payment_id: int) -> Payment:
    user = actor(request)
    payment = selectors.payment(user, payment_id)
    allocations = selectors.allocations(user, payment_id=payment.pk).order_by("date", "pk")
    payment.visible_allocations = list(allocations)  # type: ignore[attr-defined]
    return payment
