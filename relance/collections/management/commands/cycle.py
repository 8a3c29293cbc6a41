import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from relance.collections import cycle
from relance.core.management.base import CLI_ACTOR, RelanceCommand


class Command(RelanceCommand):
    help = (
        "Run the dunning cycle for a business date (default: today): decide which step is due for every "
        "customer, record it, send the e-mails, queue the letters, create the call tasks. Idempotent: a second "
        "run for the same date sends nothing twice. Also run daily by the scheduler (job collections_cycle)."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Business date (YYYY-MM-DD).")
        parser.add_argument("--dry-run", action="store_true", help="Print what would be done; record and send nothing.")

    def run(self, **options: Any) -> dict[str, Any]:
        from relance.collections import promises
        from relance.core import clock

        day = options["date"] or clock.today()
        last = cycle.last_completed()
        if not options["dry_run"] and (last is None or day >= last):
            # first the promises kept or broken (as the daily jobs do, in that order)
            reviewed = promises.review(as_of=day)
            if reviewed["broken"] or reviewed["kept"]:
                self.say(f"Promises: {reviewed['kept']} kept, {reviewed['broken']} broken.")
        result = cycle.cycle_run(as_of=options["date"], dry_run=options["dry_run"], actor=CLI_ACTOR)
        for code, reason in result.held_companies.items():
            self.say(f"{code}: held back — {reason}")
        for a in result.actions:
            extra = f" ({a['reason']})" if a.get("reason") else ""
            self.say(
                f"{a['company']} {a['customer_ref']} {a['currency']} {a['step']} {a['channel']} "
                f"{','.join(a['documents'])}: {a['status']}{extra}"
            )
        done = sum(1 for a in result.actions if a["status"] != "skipped")
        self.say(
            f"{result.date}: {done} action(s){' (dry run)' if result.dry_run else ''}, "
            f"{len(result.actions) - done} skipped."
        )
        return result.as_json()
