"""Daily job of the analytics app (relance.core.scheduler): customer behaviour and the KPI summaries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily

from . import services, summaries


@daily("analytics_summaries")
def refresh(as_of: dt.date) -> dict[str, Any]:
    """Recompute each customer's payment delay (for the cash forecast), the positions of ``as_of`` and the daily
    flows (for fast dashboards)."""
    out = services.behaviour_refresh(actor=None, as_of=as_of)
    out.update(summaries.refresh(as_of))
    return out
