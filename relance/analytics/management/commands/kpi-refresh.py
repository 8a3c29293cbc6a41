"""``relance kpi-refresh``: recompute the KPI summaries (and customer behaviour) now, or for past dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from relance.analytics import domain, services, summaries
from relance.core import clock, errors, scope
from relance.core.management.base import CLI_ACTOR, RelanceCommand, progress


class Command(RelanceCommand):
    help = (
        "Recompute the daily KPI summaries: the positions of a date (default today) and the flows of every day, "
        "plus each customer's payment delay. --month-ends N also stores the positions of the last N month ends "
        "and --days N each of the N days before it (fast dashboards for those dates). The daily job does today's; run "
        "this after a large import."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="Business date YYYY-MM-DD (default: today).")
        parser.add_argument("--month-ends", type=int, default=0, help="Also the last N month ends (0-36).")
        parser.add_argument("--days", type=int, default=0, help="Also each of the N days before the date (0-400).")

    def run(self, **options: Any) -> dict[str, Any]:
        today = clock.today()
        try:
            day = dt.date.fromisoformat(options["date"]) if options["date"] else today
        except ValueError:
            raise errors.ValidationError(f"{options['date']!r} is not a date (YYYY-MM-DD).", field="date")
        if not 0 <= options["month_ends"] <= 36:
            raise errors.ValidationError("--month-ends must be between 0 and 36.", field="month_ends")
        if not 0 <= options["days"] <= 400:
            raise errors.ValidationError("--days must be between 0 and 400.", field="days")
        result = services.behaviour_refresh(actor=scope.SystemActor(CLI_ACTOR), as_of=day)
        result.update(summaries.refresh(day))
        ends = domain.month_ends(day, options["month_ends"] + 1)[:-1] if options["month_ends"] else []
        ends = sorted(set(ends) | {day - dt.timedelta(days=k) for k in range(1, options["days"] + 1)})
        with progress(len(ends), "past dates", enabled=not self.as_json, unit="dates") as bar:
            for end in ends:
                summaries.refresh_position(end)
                bar.update(1)
        result["past_dates"] = [d.isoformat() for d in ends]
        self.say(
            f"Positions of {result['date']}: {result['position_cells']} cells; flows: {result['flow_rows']} rows; "
            f"{result['customers']} customer delays; {len(ends)} past dates."
        )
        return result
