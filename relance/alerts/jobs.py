"""Daily jobs of the alerts (relance.core.scheduler)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily

from . import digest


@daily("risk_alerts_digest")
def alerts_digest(as_of: dt.date) -> dict[str, Any]:
    """One e-mail per user with the alerts raised in their scope since the previous digest (never twice)."""
    return digest.send_digests(as_of=as_of)
