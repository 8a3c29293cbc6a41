import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from relance.core import clock, errors
from relance.core.management.base import CLI_ACTOR, RelanceCommand, progress
from relance.ledger.models import Customer
from relance.orgs.services import current_group
from relance.risk import jobs, scoring, services
from relance.risk.models import CustomerRisk

ACTIONS = "{rescore,daily,settings,blocked}"
NOT_JSON = "{path}: not a JSON document ({error})."


def _date(text: str | None) -> dt.date:
    if not text:
        return clock.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise errors.ValidationError(f"{text!r} is not a date in the form YYYY-MM-DD.", field="date")


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Customer risk: rescore customers (only those whose inputs changed, or --all), run the daily risk job "
        "(rescore, monitoring alerts, insolvency claims), show or set the group's risk settings, list blocked "
        "customers. See docs/risk.md."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar=ACTIONS)
        p = sub.add_parser("rescore", help="Rescore the customers whose inputs changed since the last run.")
        p.add_argument("--all", action="store_true", help="Rescore every customer.")
        p.add_argument("--customer", action="append", default=[], help="Only this customer id (repeatable).")
        p.add_argument("--date", default=None, help="Business date (YYYY-MM-DD, default today).")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser("daily", help="Run the daily risk job now: rescore, monitoring alerts, claims.")
        p.add_argument("--all", action="store_true", help="Rescore and monitor every customer.")
        p.add_argument("--date", default=None, help="Business date (YYYY-MM-DD, default today).")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser("settings", help="Show the effective settings, or store a settings document.")
        p.add_argument("--set", dest="file", type=Path, default=None, help="JSON file: the group's settings document.")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")
        p = sub.add_parser("blocked", help="List blocked customers (and customers in insolvency proceedings).")
        p.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        self.as_json = bool(options.get("json"))
        return getattr(self, f"_{options['action']}")(**options)

    def _rescore(self, **options: Any) -> dict[str, Any]:
        as_of = _date(options["date"])
        ids = [int(x) for x in options["customer"]] or None
        total = Customer.objects.count() if options["all"] or ids is None else len(ids)
        with progress(total, "rescore", enabled=not self.as_json, unit="customers") as bar:
            result = scoring.rescore(
                as_of=as_of, customer_ids=ids, full=options["all"], progress=bar.update, actor=CLI_ACTOR
            )
        out = result.as_dict()
        self.say(
            f"{as_of}: {out['considered']} customer(s) considered ({out['mode']}), {out['changed']} changed "
            f"({out['created']} scored for the first time), {out['class_changes']} class change(s)."
        )
        return out

    def _daily(self, **options: Any) -> dict[str, Any]:
        as_of = _date(options["date"])
        result = jobs.run_daily(as_of, full=options["all"])
        m = result["monitoring"]
        self.say(
            f"{as_of}: rescored {result['rescore']['changed']} of {result['rescore']['considered']}; "
            f"alerts raised {m['raised']}, cleared {m['cleared']}; claims created {m['claims_created']}."
        )
        return result

    def _settings(self, **options: Any) -> dict[str, Any]:
        group = current_group()
        if options["file"]:
            path: Path = options["file"]
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise errors.ValidationError(NOT_JSON.format(path=path, error=exc), field="file")
            effective = services.settings_update(actor=CLI_ACTOR, group=group, document=document)
            self.say(f"Risk settings of {group.name} stored; the next rescore uses them for every customer.")
        else:
            effective = scoring.settings_for(group.pk)
        if not self.as_json and not options["file"]:
            self.stdout.write(json.dumps(effective, indent=2))
        return effective

    def _blocked(self, **options: Any) -> list[dict[str, Any]]:
        rows = []
        for r in (
            CustomerRisk.objects.filter(blocked=True)
            .select_related("customer__company")
            .order_by("customer__company__code", "customer__reference")
        ):
            c = r.customer
            rows.append(
                {
                    "company": c.company.code,
                    "reference": c.reference,
                    "name": c.name,
                    "risk_class": r.risk_class,
                    "reason": r.blocked_reason,
                }
            )
            self.say(f"{c.company.code} {c.reference} {c.name}: class {r.risk_class or '-'}, {r.blocked_reason}")
        if not rows:
            self.say("No blocked customer.")
        return rows
