"""Customer accounts: ``GET /customers`` and ``GET /customers/{customer_id}``."""

from dataclasses import replace

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from relance.api import problems
from relance.api.auth import actor
from relance.api.pagination import Pagination
from relance.api.schemas import CustomerDetailOut, CustomerOut, CustomerQuery
from relance.core import clock
from relance.ledger import selectors
from relance.ledger.models import Customer
from relance.risk.selectors import with_credit

from ._common import reject_unknown_params, stable

router = Router(tags=["customers"])


@router.get(
    "/customers",
    response={200: list[CustomerOut], **problems.responses()},
    summary="List customers",
    description="The customer accounts the caller may see, filtered, ordered by id.",
)
@paginate(Pagination)
def list_customers(request: HttpRequest, filters: Query[CustomerQuery]) -> QuerySet[Customer]:
    reject_unknown_params(request, CustomerQuery)
    user = actor(request)
    wanted = filters.to_filters()
    if filters.overdue:
        return with_credit(stable(selectors.customers(user, replace(wanted, overdue=True), as_of=clock.today())))
    customers = selectors.customers(user, wanted)
    if filters.overdue is False:
        overdue = selectors.customers(user, selectors.CustomerFilters(overdue=True), as_of=clock.today())
        customers = customers.exclude(pk__in=overdue.values("pk"))
    return with_credit(stable(customers))


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerDetailOut, **problems.responses(404)},
    summary="Get a customer",
    description="One customer account with its legal entity, contacts and open balances per currency. "
    "An id the caller may not see answers 404, as a missing one does.",
)
def get_customer(request: HttpRequest, customer_id: int) -> Customer:
    user = actor(request)
    customer = selectors.customer(user, customer_id)
    prefetch_related_objects([customer], Prefetch("contacts", queryset=selectors.contacts(user, customer.pk)))
    customer.balances = selectors.customer_balances(user, customer, as_of=clock.today())  # type: ignore[attr-defined]
    return customer
