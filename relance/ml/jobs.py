"""The daily job of the ML app (relance.core.scheduler): payer profiles, retraining when due, predictions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily


@daily("ml")
def ml_daily(as_of: dt.date) -> dict[str, Any]:
    """Recompute payer profiles, retrain stale models (RELANCE_ML_RETRAIN_DAYS), predict every open invoice."""
    from . import services

    return services.daily_cycle(as_of=as_of, actor="scheduler")
