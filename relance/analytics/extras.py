"""Other apps' records the KPIs read: promises (collections), and the risk and ML models when installed.

An app that is not installed gives zero for its figures (relance.analytics.positions), so the dashboard and
the API keep their shape.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.apps import apps
from django.db.models import Q

from relance.core import scope

from .sql import KpiFilters


def model(label: str) -> Any:
    """The model ``app.Model`` if its app is installed, else None."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def open_promises(user: Any, f: KpiFilters, as_of: dt.date) -> Any:
    Promise = model("collections.Promise")
    if Promise is None:
        return None
    qs = scope.restrict(user, Promise.objects.all()).filter(f.customer_q()).order_by()
    if f.currency:
        qs = qs.filter(currency=f.currency.upper())
    return qs.filter(made_on__lte=as_of).filter(Q(status="open") | Q(resolved_on__gt=as_of))
