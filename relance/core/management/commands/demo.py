"""``relance demo``: fill an empty database with a believable, deterministic demo group."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relance.demo import DEFAULT_CUSTOMERS, DEFAULT_INVOICES, DEFAULT_SEED
from relance.demo.generator import NotEmpty, OptionError, Options, Summary, existing_companies, generate
from relance.demo.org import Login, existing_logins

SKIPPED = "The database already has companies ({codes}): demo data not loaded."


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of {text!r} is not a date in the form YYYY-MM-DD.")


class Command(BaseCommand):
    help = (
        "Create the demo group (3 companies in 2 countries, agencies, users of every role, customers with "
        "distinct payer profiles, three years of invoices, credit notes, payments, deposits, disputes and "
        "GBP rates) in an empty database. Same --seed and --as-of give the same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS, help="number of customer accounts")
        parser.add_argument("--invoices", type=int, default=DEFAULT_INVOICES, help="number of invoices in total")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 42)")
        parser.add_argument(
            "--as-of", type=_date, default=None, help="last day of the history, YYYY-MM-DD (default: today)"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (successfully) when the database has a company"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON, without progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        as_json = opts["json"]
        if opts["if_empty"]:
            codes = existing_companies()
            if codes:
                logins = existing_logins()
                if as_json:
                    self.stdout.write(
                        json.dumps({"status": "skipped", "companies": codes, "logins": [x.as_dict() for x in logins]})
                    )
                else:
                    self.stdout.write(SKIPPED.format(codes=", ".join(codes)))
                    if logins:
                        self.stdout.write(
                            "\n".join(["", "Demo logins (unless their passwords were changed):", *logins_table(logins)])
                        )
                return
        options = Options(
            customers=opts["customers"], invoices=opts["invoices"], seed=opts["seed"], as_of=opts["as_of"]
        )
        try:
            options.check()
            summary = generate(
                options,
                progress=not as_json,
                log=None if as_json else (lambda msg: self.stderr.write(msg, style_func=lambda s: s)),
            )
        except (NotEmpty, OptionError) as exc:
            raise CommandError(str(exc))
        if as_json:
            self.stdout.write(json.dumps(summary.as_dict(), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render(summary))


def render(summary: Summary) -> str:
    c = summary.counts
    lines = [
        f"Demo group created in {summary.seconds:.1f} s (seed {summary.seed}, as of {summary.as_of.isoformat()}):",
        f"  {c['companies']} companies, {c['agencies']} agencies, {c['users']} users, "
        f"{c['customers']:,} customers ({c['legal_entities']:,} legal entities), {c['contacts']:,} contacts",
        f"  {c['invoices']:,} invoices ({c['open_invoices']:,} open, {c['overdue_invoices']:,} overdue), "
        f"{c['credit_notes']:,} credit notes",
        f"  {c['payments']:,} payments ({c['deposits']:,} deposits, {c['multi_invoice_payments']:,} covering "
        f"several invoices, {c['unidentified_payments']:,} unidentified), {c['allocations']:,} allocations",
        f"  {c['disputes']:,} disputes ({c['open_disputes']:,} open), {c['rates']:,} GBP exchange rates; "
        f"{c['rows']:,} rows in all",
    ]
    if summary.highlights:
        lines.append("")
        lines.append("Worth a look:")
        width = max(len(k) for k in summary.highlights)
        lines.extend(f"  {k.replace('_', ' '):<{width}}  {v}" for k, v in summary.highlights.items())
    lines.append("")
    lines.append("Logins:")
    lines.extend(logins_table(summary.logins))
    return "\n".join(lines)


def logins_table(logins: list[Login]) -> list[str]:
    rows = [("E-mail", "Role", "Scope", "Password")] + [(x.email, x.role, x.scope, x.password) for x in logins]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines
