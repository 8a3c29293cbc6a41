from typing import Any

from django.core.management.base import CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.orgs import services
from relance.orgs.models import Agency


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = "Add (or update) an agency (a branch) of a company, or list them."

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = sub.add_parser("add", help="Add or update the agency CODE.")
        add.add_argument("code", help="Short code, unique in the group (e.g. PAR).")
        add.add_argument("--company", required=True, help="Code of the company it belongs to.")
        add.add_argument("--name", required=True)
        add.add_argument("--json", action="store_true", help="Print the result as JSON.")
        lst = sub.add_parser("list", help="List the agencies.")
        lst.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        if options["action"] == "list":
            rows = [
                {"code": a.code, "company": a.company.code, "name": a.name}
                for a in Agency.objects.select_related("company")
            ]
            for r in rows:
                self.say(f"{r['code']:<8} {r['company']:<8} {r['name']}")
            return rows
        agency = services.agency_add(
            actor=CLI_ACTOR, code=options["code"], company=options["company"], name=options["name"]
        )
        self.say(f"Agency {agency.code} saved in company {agency.company.code}: {agency.name}.")
        return {"code": agency.code, "company": agency.company.code, "name": agency.name}
