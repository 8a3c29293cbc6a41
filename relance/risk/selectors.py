"""Reading risk data, through the user's scope where a user reads it.

:func:`dunning_stopped_customer_ids` is read by the collections cycle (a system read, no user): a customer
whose legal entity is in insolvency proceedings gets no dunning in any company of the group.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import CustomerRisk


def dunning_stopped_customer_ids(company_ids: Iterable[int] | None = None) -> set[int]:
    """Ids of the customer accounts whose dunning is stopped (insolvency proceedings), optionally in some companies."""
    qs = CustomerRisk.objects.filter(dunning_stopped=True)
    if company_ids is not None:
        qs = qs.filter(customer__company_id__in=list(company_ids))
    return set(qs.values_list("customer_id", flat=True))
