"""``relance match-eval STATEMENT --labels LABELS.csv``: how well the matcher does on a labelled statement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.core.management.base import RelanceCommand


class Command(RelanceCommand):
    help = (
        "Run the cash matcher on a bank statement against the loaded ledger, writing nothing, and compare with "
        "labels (CSV: bank_reference, invoice_numbers separated by ';', empty = should stay unmatched). Prints "
        "precision (correct automatic / automatic), recall (correct automatic / labelled with invoices), "
        "auto_share and review_share."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("statement", type=Path)
        parser.add_argument("--labels", type=Path, required=True)
        parser.add_argument(
            "--company", default="", help="Company code when the statement's account is not registered."
        )

    def run(self, **options: Any) -> dict[str, Any]:
        from relance.cashapp.evaluation import evaluate_file

        result = evaluate_file(path=options["statement"], labels_path=options["labels"], company=options["company"])
        self.say(
            f"{result['lines']} incoming lines, {result['labelled']} labelled: precision {result['precision']}, "
            f"recall {result['recall']}, automatic {result['auto_share']}, review {result['review_share']}."
        )
        for mistake in result["mistakes"][:10]:
            self.say(f"  {mistake['bank_reference']}: expected {mistake['expected']}, applied {mistake['applied']}")
        return result
