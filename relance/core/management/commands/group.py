from typing import Any

from django.core.management.base import CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.orgs import services


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = "Show or set the group (the tenant): its name and consolidation currency."

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{set,show}")
        set_ = sub.add_parser("set", help="Set the group's name and/or consolidation currency.")
        set_.add_argument("--name", help="Group name.")
        set_.add_argument("--currency", help="Consolidation currency (ISO 4217, e.g. EUR).")
        set_.add_argument("--json", action="store_true", help="Print the result as JSON.")
        show = sub.add_parser("show", help="Show the group.")
        show.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> dict[str, Any]:
        if options["action"] == "set":
            group = services.group_set(actor=CLI_ACTOR, name=options.get("name"), currency=options.get("currency"))
        else:
            group = services.current_group()
        self.say(f"Group: {group.name} (consolidation currency {group.currency})")
        return {"name": group.name, "currency": group.currency}
