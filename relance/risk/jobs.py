"""The daily risk job (relance.core.scheduler): rescore what changed, monitor, track claims, send digests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily

from . import monitor, scoring


def run_daily(as_of: dt.date, *, full: bool = False) -> dict[str, Any]:
    result = scoring.rescore(as_of=as_of, full=full, actor="scheduler")
    if result.considered_ids is None:
        ids = None
    else:
        ids = set(result.considered_ids) | monitor.monitored_customer_ids(as_of)
    counts = monitor.monitor(as_of=as_of, customer_ids=ids)
    return {"rescore": result.as_dict(), "monitoring": counts}


@daily("risk")
def risk_daily(as_of: dt.date) -> dict[str, Any]:
    """Incremental rescoring, then the monitoring rules and insolvency claims (alerts raised once, cleared)."""
    return run_daily(as_of)
