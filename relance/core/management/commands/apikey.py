from typing import Any

from django.core.management.base import CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.orgs import services
from relance.orgs.models import ApiKey


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = "Create, list or revoke API tokens. A token acts as its user, within the user's scope."

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = sub.add_parser("create", help="Create a token for EMAIL and print it (shown once).")
        create.add_argument("email")
        create.add_argument("--label", default="")
        create.add_argument("--json", action="store_true", help="Print the result as JSON.")
        lst = sub.add_parser("list", help="List tokens (prefixes only).")
        lst.add_argument("--json", action="store_true", help="Print the result as JSON.")
        revoke = sub.add_parser("revoke", help="Revoke the tokens starting with PREFIX.")
        revoke.add_argument("prefix")
        revoke.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        action = options["action"]
        if action == "create":
            key, token = services.apikey_create(actor=CLI_ACTOR, email=options["email"], label=options["label"])
            self.say(token)
            self.stderr.write(
                "Send it as 'Authorization: Bearer <token>'. It is not stored and will not be shown again."
            )
            return {"token": token, "prefix": key.prefix, "email": key.user.email}
        if action == "revoke":
            n = services.apikey_revoke(actor=CLI_ACTOR, prefix=options["prefix"])
            self.say(f"{n} token(s) revoked.")
            return {"revoked": n}
        rows = [
            {
                "prefix": k.prefix,
                "email": k.user.email,
                "label": k.label,
                "created_at": k.created_at,
                "last_used_at": k.last_used_at,
                "revoked": k.revoked_at is not None,
            }
            for k in ApiKey.objects.select_related("user").order_by("created_at")
        ]
        for r in rows:
            self.say(f"{r['prefix']}…  {r['email']:<40} {'revoked' if r['revoked'] else 'active'}  {r['label']}")
        return rows
