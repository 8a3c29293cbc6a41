from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand, progress
from relance.ingest import services

KINDS = ["customers", "documents", "invoices", "payments"]


class Command(RelanceCommand):
    help = (
        "Import customers, documents (invoices and credit notes) or payments from CSV (any delimiter, UTF-8 or "
        "Windows-1252, decimal comma or point) or XLSX, in the canonical layout or through a mapping profile. "
        "All or nothing unless --partial. Re-importing a file changes nothing."
    )
    json_output = False

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True, metavar="{customers,documents,invoices,payments}")
        for kind in KINDS:
            p = sub.add_parser(kind, help=f"Import {kind} (see docs/imports.md for the layout).")
            p.add_argument("file", type=Path)
            p.add_argument(
                "--company",
                default="",
                help="Company code for rows without one (and the only one allowed in the file).",
            )
            p.add_argument("--profile", default=None, help="Name of a saved mapping profile (relance profile).")
            p.add_argument(
                "--partial",
                action="store_true",
                help="Load the valid rows and write the rejected ones to FILE.rejects.csv.",
            )
            p.add_argument("--preview", action="store_true", help="Check everything, write nothing.")
            p.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        path: Path = options["file"]
        with progress(None, f"import {options['kind']}", enabled=not options.get("json")) as bar:
            result = services.import_file(
                actor=CLI_ACTOR,
                kind=options["kind"],
                path=path,
                company=options["company"],
                profile=options["profile"],
                partial=options["partial"],
                preview=options["preview"],
                progress=bar.update,
            )
        c = result.counts
        self.say(
            f"{result.file}: {result.status}. {c['read']} rows read, {c['created']} created, "
            f"{c['updated']} updated, {c['unchanged']} unchanged, {c['rejected']} rejected."
        )
        for error in result.errors[:50]:
            self.stderr.write(str(error))
        if result.error_count > 50:
            self.stderr.write(f"… and {result.error_count - 50} more errors.")
        if result.rejects_file:
            self.say(f"Rejected rows: {result.rejects_file}")
        if result.status == "refused":
            if self.as_json:
                self.stdout.write(self._json(result.as_dict()))
            raise CommandError(
                f"{result.error_count} error(s): nothing was imported "
                "(fix the file, or use --partial to load the valid rows).",
                returncode=2,
            )
        return result.as_dict()

    def _json(self, data: dict[str, Any]) -> str:
        import json

        from relance.core.management.base import _default

        return json.dumps(data, default=_default, indent=2, ensure_ascii=False)
