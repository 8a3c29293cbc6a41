import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from relance.collections import work
from relance.core import clock
from relance.core.management.base import CLI_ACTOR, RelanceCommand


class Command(RelanceCommand):
    help = (
        "Write off small residual balances: every partly paid invoice whose open amount is at or below its "
        "company's threshold (CollectionSettings.write_off_threshold, EUR 5 by default) and at least --min-days "
        "past due. Each write-off is an audited, reversible ledger entry. Bad debts need the pages (approval)."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Business date (YYYY-MM-DD).")
        parser.add_argument("--min-days", type=int, default=30, help="Days past due at least (default 30).")
        parser.add_argument("--dry-run", action="store_true", help="List what would be written off.")

    def run(self, **options: Any) -> dict[str, Any]:
        result = work.small_balances(
            actor=CLI_ACTOR,
            as_of=options["date"] or clock.today(),
            min_days=options["min_days"],
            dry_run=options["dry_run"],
        )
        for row in result["written_off"]:
            self.say(f"{row['number']}: {row['amount']} {row['currency']}")
        self.say(f"{len(result['written_off'])} residual(s){' (dry run)' if options['dry_run'] else ''}.")
        return result
