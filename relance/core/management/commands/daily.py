import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from relance.core import clock, scheduler
from relance.core.management.base import RelanceCommand


class Command(RelanceCommand):
    help = (
        "Run the daily jobs that have not run yet for the business date (what `relance serve` schedules). "
        "For cron: `15 6 * * * cd /srv/relance && .venv/bin/relance daily`. A job runs once per date."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Business date (YYYY-MM-DD).")
        parser.add_argument("--job", action="append", default=[], help="Only this job (repeatable).")
        parser.add_argument("--list", action="store_true", help="List the daily jobs.")

    def run(self, **options: Any) -> Any:
        names = list(scheduler.jobs())  # in the order they run
        if options["list"]:
            for name in names:
                self.say(name)
            return {"jobs": names}
        as_of = options["date"] or clock.today()
        results = []
        for name in scheduler.ordered(options["job"]) if options["job"] else names:
            if name not in names:
                from relance.core.errors import ValidationError

                raise ValidationError(f"Unknown daily job {name!r}; jobs: {', '.join(names)}.", field="job")
            run = scheduler.run_job(name, as_of)
            status = run.status if run else "already_done"
            self.say(f"{name} {as_of}: {status}")
            results.append({"job": name, "date": as_of, "status": status, "result": run.result if run else None})
        return {"date": as_of, "runs": results}
