"""The only place that reads time.

Domain functions take an explicit ``as_of``; services ask this module for "today".
Set ``RELANCE_TODAY=YYYY-MM-DD`` (or call :func:`freeze`) to pin the business date.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

_frozen: dt.date | None = None


def now() -> dt.datetime:
    """The current instant, timezone-aware."""
    return timezone.now()


def today(tz: str | None = None) -> dt.date:
    """Today's business date in ``tz`` (default: the installation's TIME_ZONE)."""
    if _frozen is not None:
        return _frozen
    pinned = getattr(settings, "RELANCE_TODAY", "")
    if pinned:
        return dt.date.fromisoformat(pinned)
    return timezone.now().astimezone(ZoneInfo(tz or settings.TIME_ZONE)).date()


def freeze(day: dt.date | None) -> None:
    """Pin (or, with None, release) the business date; for tests and back-tests."""
    global _frozen
    _frozen = day
