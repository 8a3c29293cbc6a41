from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.ledger import rates


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Exchange rates. `relance rates load FILE` reads the ECB reference-rate CSV layout "
        "(eurofxref-hist.csv or the daily eurofxref.csv): units of each currency for one euro, by date."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load}")
        load = sub.add_parser("load", help="Load (upsert) the rates of FILE, all or nothing.")
        load.add_argument("file", type=Path)
        load.add_argument(
            "--kind",
            default="reference",
            choices=["reference", "policy", "legal"],
            help="reference: ECB euro foreign-exchange reference rates (default); policy: ECB key interest rates "
            "(main refinancing rate, for late-payment interest); legal: the French legal interest rate by half-year.",
        )
        load.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> dict[str, Any]:
        path: Path = options["file"]
        if not path.exists():
            from relance.core.errors import ValidationError

            raise ValidationError(f"{path}: no such file.", field="file")
        if options["kind"] in ("policy", "legal"):
            from relance.collections import interest_rates

            result = interest_rates.load(actor=CLI_ACTOR, path=path, kind=options["kind"])
            self.say(
                f"{path}: {result['read']} {options['kind']} rates read, {result['created']} new, "
                f"{result['updated']} updated."
            )
            return result
        result = rates.rates_load(actor=CLI_ACTOR, path=path)
        self.say(f"{path}: {result['read']} rates read, {result['created']} new, {result['updated']} updated.")
        return result
