"""Daily job of the analytics app (relance.core.scheduler): refresh the customers' payment behaviour."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily

from . import services


@daily("analytics_behaviour")
def behaviour(as_of: dt.date) -> dict[str, Any]:
    """Recompute each customer's payment delay (used by the cash forecast) from the ledger at ``as_of``."""
    return services.behaviour_refresh(actor=None, as_of=as_of)
