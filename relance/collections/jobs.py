"""Daily jobs of collections (relance.core.scheduler)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily, frequent


@daily("collections_promises")
def promises_review(as_of: dt.date) -> dict[str, Any]:
    """Mark promises kept or broken from the payments received (before the cycle: a broken promise resumes it)."""
    from . import promises

    return promises.review(as_of=as_of)


@daily("collections_reminders")
def dunning_cycle(as_of: dt.date) -> dict[str, Any]:
    """The dunning cycle for the day (``relance cycle``)."""
    from . import cycle

    result = cycle.cycle_run(as_of=as_of, actor="scheduler")
    statuses: dict[str, int] = {}
    for a in result.actions:
        statuses[a["status"]] = statuses.get(a["status"], 0) + 1
    return {"actions": statuses, "held_companies": result.held_companies, "resumed": result.resumed}


@frequent("collections_mail")
def mail_poll() -> dict[str, Any]:
    """Read the collections mailbox (only when RELANCE_IMAP_HOST is set)."""
    from django.conf import settings

    if not settings.RELANCE_IMAP_HOST:
        return {}
    from . import replies

    box = replies.ImapMailbox()
    try:
        return replies.poll(box)
    finally:
        box.close()
