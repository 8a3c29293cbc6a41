from typing import Any

from django.core.management.base import CommandError

from relance.core.management.base import RelanceCommand
from relance.ledger import selectors


class Command(RelanceCommand):
    help = "Recompute every open amount from the allocations and report any broken ledger invariant."

    def run(self, **options: Any) -> dict[str, Any]:
        problems = selectors.check_invariants()
        counts = selectors.counts()
        for name, value in counts.items():
            self.say(f"{name:<16} {value:>12,}")
        for p in problems:
            self.stderr.write(p)
        if problems and not self.as_json:
            raise CommandError(f"{len(problems)} ledger invariant violation(s).")
        self.say("Ledger invariants hold.")
        return {"counts": counts, "problems": problems}
