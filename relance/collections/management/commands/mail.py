from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from relance.collections import replies
from relance.core import errors
from relance.core.management.base import RelanceCommand


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Customer replies to reminders. `ingest FILE.eml...` reads saved messages; `poll` reads the unread messages "
        "of the collections mailbox over IMAP (RELANCE_IMAP_HOST, _PORT, _USER, _PASSWORD, _SSL). Each reply is "
        "threaded to its reminder and customer, classified, and pauses dunning for that customer until handled. "
        "Reading the same message twice changes nothing."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{ingest,poll}")
        ingest = sub.add_parser("ingest", help="Read .eml files.")
        ingest.add_argument("files", nargs="+", type=Path)
        ingest.add_argument("--json", action="store_true")
        poll = sub.add_parser("poll", help="Read the unread messages of the IMAP mailbox.")
        poll.add_argument("--json", action="store_true")

    def run(self, **options: Any) -> Any:
        if options["action"] == "poll":
            if not settings.RELANCE_IMAP_HOST:
                raise errors.ValidationError(
                    "Set RELANCE_IMAP_HOST (and _USER, _PASSWORD) to poll a mailbox.", field="RELANCE_IMAP_HOST"
                )
            box = replies.ImapMailbox()
            try:
                result = replies.poll(box)
            finally:
                box.close()
            self.say(f"{result['read']} message(s) read, {result['new']} new.")
            return result
        out = []
        for path in options["files"]:
            if not path.exists():
                raise errors.ValidationError(f"{path}: no such file.", field="file")
            reply, created = replies.ingest(raw=path.read_bytes(), source=path.name)
            row = {
                "file": str(path),
                "reply": reply.pk,
                "created": created,
                "customer_ref": reply.customer.reference if reply.customer else None,
                "reference": reply.action.reference if reply.action else None,
                "classification": reply.classification,
                "rule": reply.rule,
            }
            out.append(row)
            self.say(
                f"{path}: {'new' if created else 'already read'}, {row['customer_ref'] or 'no customer'}, "
                f"{row['classification']} ({row['rule']})"
            )
        return out
