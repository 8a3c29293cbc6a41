"""``relance forecast-backtest``: replay the cash forecast at past dates and score it against real receipts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import CommandParser

from relance.analytics import forecast, forecast_domain
from relance.analytics.sql import KpiFilters
from relance.core import clock, errors, scope
from relance.core.management.base import CLI_ACTOR, RelanceCommand, progress


class Command(RelanceCommand):
    help = (
        "Replay the cash forecast at past dates (with only what was known then) and print, week by week, the "
        "forecast, the naive due-date forecast and the receipts really applied, with each one's error (MAE, WAPE)."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--dates", type=int, default=6, help="How many past dates to replay (default 6).")
        parser.add_argument("--every", type=int, default=28, help="Days between two replayed dates (default 28).")
        parser.add_argument(
            "--last", default="", help="Last replayed date YYYY-MM-DD (default: 13 weeks before today)."
        )
        parser.add_argument("--weeks", type=int, default=forecast_domain.WEEKS, help="Weeks scored (default 13).")
        parser.add_argument("--company", default="", help="Company code.")
        parser.add_argument("--currency", default="", help="Presentation currency (default: the group currency).")

    def run(self, **options: Any) -> dict[str, Any]:
        today = clock.today()
        weeks = options["weeks"]
        if not 1 <= weeks <= 26:
            raise errors.ValidationError("--weeks must be between 1 and 26.", field="weeks")
        if not 1 <= options["dates"] <= 60 or options["every"] < 1:
            raise errors.ValidationError("--dates must be 1..60 and --every at least 1.", field="dates")
        try:
            last = dt.date.fromisoformat(options["last"]) if options["last"] else today - dt.timedelta(weeks=weeks)
        except ValueError:
            raise errors.ValidationError(f"--last {options['last']!r} is not a date (YYYY-MM-DD).", field="last")
        dates = sorted(last - dt.timedelta(days=options["every"] * k) for k in range(options["dates"]))
        actor = scope.SystemActor(CLI_ACTOR)
        f = KpiFilters(company=options["company"])
        rows = []
        with progress(len(dates), "replaying", enabled=not self.as_json, unit="dates") as bar:
            for day in dates:
                rows.extend(
                    forecast.backtest(actor, [day], weeks=weeks, filters=f, currency=options["currency"] or None)
                )
                bar.update(1)
        runs = [r.as_dict() for r in rows]
        summary = {k: _mean([r[k] for r in runs]) for k in ("forecast_mae", "forecast_wape", "naive_mae", "naive_wape")}
        for r in runs:
            self.say(
                f"{r['as_of']}  {r['weeks']:>2} weeks  forecast WAPE {r['forecast_wape'] or '-':>7} %  "
                f"naive WAPE {r['naive_wape'] or '-':>7} %"
            )
        self.say(
            f"mean        forecast WAPE {summary['forecast_wape'] or '-':>7} %  "
            f"naive WAPE {summary['naive_wape'] or '-':>7} %"
        )
        return {"runs": runs, "summary": summary}


def _mean(values: list[str | None]) -> str | None:
    nums = [Decimal(v) for v in values if v is not None]
    return str((sum(nums, Decimal(0)) / len(nums)).quantize(Decimal("0.01"))) if nums else None
