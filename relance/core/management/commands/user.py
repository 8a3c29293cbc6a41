import getpass
import os
from typing import Any

from django.core.management.base import CommandParser

from relance.core import scope
from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.core.vocab import Role
from relance.orgs import services
from relance.orgs.models import User


def user_json(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "role": user.role,
        "active": user.is_active,
        "scope": scope.scope_of(user).level,
        "companies": [c.code for c in user.companies.all()],
        "agencies": [a.code for a in user.agencies.all()],
    }


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Add (or update) a staff user with a role and a scope, or list users. Roles: "
        + ", ".join(Role.values)
        + ". Without --company/--agency an admin, credit manager or auditor sees the whole group; "
        "collectors and sales reps see their own portfolio."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = sub.add_parser("add", help="Add or update the user EMAIL.")
        add.add_argument("email")
        add.add_argument("--role", required=True, choices=Role.values)
        add.add_argument("--company", action="append", default=[], help="Company code (repeatable).")
        add.add_argument("--agency", action="append", default=[], help="Agency code (repeatable).")
        add.add_argument("--first-name", default="")
        add.add_argument("--last-name", default="")
        add.add_argument("--language", default="en", choices=["en", "fr"])
        add.add_argument(
            "--password",
            default=None,
            help="Password (else RELANCE_PASSWORD, else asked on a terminal; none: the user cannot log in yet).",
        )
        add.add_argument("--json", action="store_true", help="Print the result as JSON.")
        lst = sub.add_parser("list", help="List users.")
        lst.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        if options["action"] == "list":
            rows = [user_json(u) for u in User.objects.prefetch_related("companies", "agencies")]
            for r in rows:
                where = ",".join(r["companies"] + r["agencies"]) or r["scope"]
                self.say(f"{r['email']:<40} {r['role']:<16} {where}")
            return rows
        password = options["password"] or os.environ.get("RELANCE_PASSWORD")
        if password is None and os.isatty(0) and not options.get("json"):
            password = getpass.getpass("Password (empty: none): ") or None
        user = services.user_add(
            actor=CLI_ACTOR,
            email=options["email"],
            role=options["role"],
            companies=options["company"],
            agencies=options["agency"],
            password=password,
            first_name=options["first_name"],
            last_name=options["last_name"],
            language=options["language"],
        )
        data = user_json(user)
        self.say(
            f"User {user.email} saved: role {user.role}, scope {data['scope']}"
            + ("" if user.has_usable_password() else " (no password yet: set one with `relance changepassword`)")
        )
        return data
