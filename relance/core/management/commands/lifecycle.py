import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from relance.core.management.base import RelanceCommand


class Command(RelanceCommand):
    help = (
        "E-invoicing lifecycle: `relance lifecycle export --out DIR [--company CODE] [--since DATE]` writes the "
        "status 212 (Encaissée) of every fully paid invoice as a UN/CEFACT CDAR XML message, one file per invoice. "
        "Re-running rewrites the same files."
    )
    json_output = False

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{export}")
        p = sub.add_parser("export", help="Write the CDAR messages of the cashed invoices into a directory.")
        p.add_argument("--out", type=Path, required=True, help="Directory to write the XML files into.")
        p.add_argument("--company", default="", help="Only this company's invoices.")
        p.add_argument("--since", default="", help="Only invoices settled on or after this date (YYYY-MM-DD).")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> dict[str, Any]:
        from relance.ingest.lifecycle import export_cdar

        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError(f"--since {options['since']!r} is not a date in the form YYYY-MM-DD.", returncode=2)
        written = export_cdar(out_dir=options["out"], company=options["company"], since=since)
        self.say(f"{len(written)} CDAR message(s) written to {options['out']}.")
        return {"written": len(written), "files": [str(p) for p in written]}
