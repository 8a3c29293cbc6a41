"""Daily job of the analytics app (relance.core.scheduler): customer behaviour and the KPI summaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core import clock
from relance.core.scheduler import daily, frequent

from . import services, summaries
from .models import SummaryRun


@daily("analytics_summaries")
def refresh(as_of: dt.date) -> dict[str, Any]:
    """Recompute each customer's payment delay (for the cash forecast), the positions of ``as_of`` and the daily
    flows (for fast dashboards)."""
    out = services.behaviour_refresh(actor=None, as_of=as_of)
    out.update(summaries.refresh(as_of))
    return out


CATCH_UP_MINUTES = 10


@frequent("analytics_summaries_catch_up")
def catch_up() -> dict[str, Any]:
    """When the ledger changed since today's summaries (cash applied, an import…), refresh them, at most every
    ``CATCH_UP_MINUTES`` minutes: until then the dashboards compute live (exact, slower on a large ledger)."""
    today = clock.today()
    if summaries.fresh(summaries.POSITION, today):
        return {"refreshed": False}
    last = SummaryRun.objects.filter(kind=summaries.POSITION, date=today).values_list("computed_at", flat=True).first()
    if last is not None and clock.now() - last < dt.timedelta(minutes=CATCH_UP_MINUTES):
        return {"refreshed": False, "waiting": True}
    return {"refreshed": True, **summaries.refresh(today)}
