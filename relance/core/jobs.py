"""Daily housekeeping jobs of the core."""

from __future__ import annotations

import datetime as dt
from typing import Any

from relance.core.scheduler import daily


@daily("housekeeping")
def housekeeping(as_of: dt.date) -> dict[str, Any]:
    """Delete finished background-task results older than 30 days."""
    from django_tasks_db.models import DBTaskResult

    cutoff = dt.datetime.combine(as_of - dt.timedelta(days=30), dt.time.min, tzinfo=dt.UTC)
    deleted, _ = DBTaskResult.objects.filter(finished_at__lt=cutoff).delete()
    return {"task_results_deleted": deleted}
