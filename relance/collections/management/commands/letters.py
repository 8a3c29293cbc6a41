import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.collections import work
from relance.core.management.base import CLI_ACTOR, RelanceCommand


class Command(RelanceCommand):
    help = (
        "Print the letters and formal notices queued by the cycle: one PDF with all of them (in company and "
        "customer order), then they are marked printed. `relance letters --out letters.pdf [--date D]`."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="The PDF to write.")
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="Only the letters of that run.")

    def run(self, **options: Any) -> dict[str, Any]:
        with options["out"].open("wb") as handle:
            result = work.letters_print(actor=CLI_ACTOR, day=options["date"], out=handle)
        if not result["letters"]:
            options["out"].unlink(missing_ok=True)
        self.say(f"{result['letters']} letter(s){' written to ' + str(options['out']) if result['letters'] else ''}.")
        return result
