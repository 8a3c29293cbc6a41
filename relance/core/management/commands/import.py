from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand, progress
from relance.ingest import services

KINDS = ["customers", "documents", "invoices", "payments"]
FILE_KINDS = ["fec", "einvoice"]


class Command(RelanceCommand):
    help = (
        "Import files: customers, documents or payments, FEC, e-invoices, bank statements. Customers, documents "
        "(invoices and credit notes) and payments come from CSV (any delimiter, UTF-8 or "
        "Windows-1252, decimal comma or point) or XLSX, in the canonical layout or through a mapping profile. "
        "All or nothing unless --partial. Re-importing a file changes nothing. Also `import fec` (the French "
        "accounting export) and `import einvoice` (Factur-X/ZUGFeRD PDF, CII or UBL invoices): "
        "see docs/imports-fec-einvoice.md."
    )
    json_output = False

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="kind",
            required=True,
            metavar="{customers,documents,invoices,payments,fec,einvoice,statement,financials,legal-events,scores}",
        )
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
            if kind in ("documents", "invoices"):
                p.add_argument(
                    "--snapshot",
                    action="store_true",
                    help="The file is complete for --company: list its open documents missing from the "
                    "file (FILE.missing.csv).",
                )
                p.add_argument(
                    "--confirm",
                    action="store_true",
                    help="With --snapshot: close the missing documents (reversible source closures).",
                )
            p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser(
            "fec",
            help="Import a FEC (fichier des écritures comptables): customer accounts (411), invoices and credit notes "
            "(sales entries), payments (treasury entries), opening items and the lettering as allocations.",
        )
        p.add_argument("file", type=Path)
        p.add_argument("--company", required=True, help="Code of the company whose ledger the FEC is.")
        p.add_argument(
            "--partial", action="store_true", help="Skip (and report) refused entries instead of refusing the file."
        )
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser(
            "einvoice",
            help="Import e-invoices: Factur-X/ZUGFeRD PDF, UN/CEFACT CII XML, UBL 2.1 invoices and credit notes.",
        )
        p.add_argument("files", type=Path, nargs="+", metavar="FILE")
        p.add_argument("--company", default="", help="Company code when the seller is not identified by its ids.")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser(
            "statement",
            help="Import bank statements: camt.052/053/054 (any version), MT940, CFONB 120, OFX (detected from the "
            "content); then match the incoming payments. See docs/cash-application.md.",
        )
        p.add_argument("files", type=Path, nargs="+", metavar="FILE")
        p.add_argument("--company", default="", help="Company code when the statement's account is not registered.")
        p.add_argument("--no-match", action="store_true", help="Load the lines only; do not run the matching.")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")

        p = sub.add_parser(
            "financials",
            help="Import financial statements per legal entity and fiscal year (CSV, XLSX or JSON; see docs/risk.md).",
        )
        p.add_argument("file", type=Path)
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser(
            "legal-events",
            help="Import legal events (insolvency proceedings, payment incidents) from a BODACC-like feed (JSON or "
            "CSV); announcements about companies that are not customers are ignored.",
        )
        p.add_argument("file", type=Path)
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser("scores", help="Import a credit-information provider's scores (CSV, XLSX or JSON).")
        p.add_argument("file", type=Path)
        p.add_argument("--provider", required=True, help="The provider's name, stored with each score.")
        p.add_argument("--scale", default="0-100", help="The provider's scale LOW-HIGH (default 0-100).")
        p.add_argument(
            "--lower-is-safer", action="store_true", help="Low values mean low risk (e.g. a default probability)."
        )
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        if options["kind"] in ("financials", "legal-events", "scores"):
            return self._risk(**options)
        if options["kind"] == "fec":
            return self._fec(**options)
        if options["kind"] == "einvoice":
            return self._einvoice(**options)
        if options["kind"] == "statement":
            return self._statement(**options)
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
                snapshot=options.get("snapshot", False),
                confirm=options.get("confirm", False),
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
        if result.snapshot:
            snap = result.snapshot
            self.say(
                f"Snapshot of {snap['company']}: {snap['missing']} open document(s) missing from the file"
                + (f" ({snap['missing_file']})" if snap["missing_file"] else "")
                + (
                    f", {snap['closed']} closed, {snap['reopened']} reopened."
                    if snap["confirmed"]
                    else "; re-run with --confirm to close them."
                    if snap["missing"] or snap["to_reopen"]
                    else "."
                )
            )
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

    def _risk(self, **options: Any) -> dict[str, Any]:
        from relance.risk import imports

        kind, path = options["kind"], options["file"]
        if kind == "financials":
            result = imports.import_financials(actor=CLI_ACTOR, path=path)
        elif kind == "legal-events":
            result = imports.import_legal_events(actor=CLI_ACTOR, path=path)
        else:
            low, high = imports.parse_scale(options["scale"])
            result = imports.import_scores(
                actor=CLI_ACTOR,
                path=path,
                provider=options["provider"],
                low=low,
                high=high,
                lower_is_safer=options["lower_is_safer"],
            )
        c = result.counts
        self.say(
            f"{result.file}: {result.status}. {c['read']} rows read, {c['created']} created, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['ignored']} ignored."
        )
        for error in result.errors[:50]:
            self.stderr.write(str(error))
        if len(result.errors) > 50:
            self.stderr.write(f"… and {len(result.errors) - 50} more errors.")
        if result.status == "refused":
            if self.as_json:
                self.stdout.write(self._json(result.as_dict()))
            raise CommandError(f"{len(result.errors)} error(s): nothing was imported (fix the file).", returncode=2)
        if kind == "legal-events" and result.applied:
            self.say(
                f"{result.applied['customers']} customer account(s) of these legal entities rescored and monitored."
            )
        elif c["created"] or c["updated"]:
            self.say("Run `relance risk rescore` (or wait for the daily job) to update the scores.")
        return result.as_dict()

    def _json(self, data: dict[str, Any]) -> str:
        import json

        from relance.core.management.base import _default

        return json.dumps(data, default=_default, indent=2, ensure_ascii=False)

    def _fec(self, **options: Any) -> dict[str, Any]:
        from relance.ingest.fec import import_fec

        with progress(None, "import fec", enabled=not options.get("json"), unit="lines") as bar:
            result = import_fec(
                actor=CLI_ACTOR,
                path=options["file"],
                company=options["company"],
                partial=options["partial"],
                progress=bar.update,
            )
        c, t = result.counts, result.totals
        self.say(
            f"{result.file}: {result.status}. {c['lines']} lines, {c['entries']} entries"
            f" ({c['rejected_entries']} refused)."
        )
        if "documents" in c:
            self.say(
                f"Customers: {c['customers']['created']} created, {c['customers']['existing']} existing. "
                f"Documents: {c['documents']['created']} created, {c['documents']['updated']} updated, "
                f"{c['documents']['unchanged']} unchanged. Payments: {c['payments']['created']} created, "
                f"{c['payments']['updated']} updated, {c['payments']['unchanged']} unchanged. "
                f"Allocations: {c['allocations']['created']} created, {c['allocations']['reversed']} reversed."
            )
            self.say(
                f"Class 411: debits {t['debit_411']}, credits {t['credit_411']} {t['currency']}; loaded: invoices "
                f"{t['invoices']}, credit notes {t['credit_notes']}, payments {t['payments']}."
            )
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        for error in result.errors[:50]:
            self.stderr.write(str(error))
        if len(result.errors) > 50:
            self.stderr.write(f"… and {len(result.errors) - 50} more errors.")
        if result.status == "refused":
            if self.as_json:
                self.stdout.write(self._json(result.as_dict()))
            raise CommandError(
                f"{len(result.errors)} error(s): nothing was imported (fix the file, or use --partial to skip "
                "the refused entries).",
                returncode=2,
            )
        return result.as_dict()

    def _einvoice(self, **options: Any) -> dict[str, Any]:
        from relance.ingest.einvoice import import_einvoices

        results = import_einvoices(actor=CLI_ACTOR, paths=options["files"], company=options["company"])
        for r in results:
            if r.status == "refused":
                self.stderr.write(f"refused: {r.reason}")
                continue
            self.say(
                f"{r.file}: {r.status} {r.document_type} {r.number} of {r.company} to {r.customer_ref} "
                f"({r.customer_status}), {r.amount} {r.currency}, issued {r.issue_date}, due {r.due_date}."
            )
            for flag in r.flags:
                self.say(f"  {flag}")
        data = {"kind": "einvoice", "files": [r.as_dict() for r in results]}
        refused = [r for r in results if r.status == "refused"]
        if refused:
            if self.as_json:
                self.stdout.write(self._json(data))
            raise CommandError(
                f"{len(refused)} of {len(results)} file(s) refused; the others were imported.", returncode=2
            )
        return data

    def _statement(self, **options: Any) -> dict[str, Any]:
        from relance.cashapp.commands import import_statements

        data, failed = import_statements(
            actor=CLI_ACTOR,
            paths=options["files"],
            company=options["company"],
            match=not options["no_match"],
            say=self.say,
            warn=self.stderr.write,
        )
        if failed:
            if self.as_json:
                self.stdout.write(self._json(data))
            raise CommandError(
                f"{failed} of {len(options['files'])} file(s) refused; the others were imported.", returncode=2
            )
        return data
