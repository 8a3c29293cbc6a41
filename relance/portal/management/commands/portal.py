from typing import Any

from django.core.management.base import CommandParser

from relance.core import clock, errors
from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.portal import domain, services

UNKNOWN_CONTACT = "Customer {customer} has no contact with e-mail {email!r}."


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = (
        "Customer portal links: print the link a reminder embeds for a customer's accounts-payable contact, "
        "or revoke links."
    )

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{link,list,revoke}")
        link = sub.add_parser("link", help="Create and print a portal link for a customer's main AP contact.")
        link.add_argument("--customer", required=True, metavar="REF", help="The customer's reference.")
        link.add_argument("--company", default="", metavar="CODE", help="The company (when REF is in several).")
        link.add_argument("--contact", default="", metavar="EMAIL", help="Another contact of the customer.")
        link.add_argument("--json", action="store_true", help="Print the result as JSON.")
        lst = sub.add_parser("list", help="List a customer's links (prefix, contact, dates, status; never the URL).")
        lst.add_argument("--customer", required=True, metavar="REF")
        lst.add_argument("--company", default="", metavar="CODE")
        lst.add_argument("--json", action="store_true", help="Print the result as JSON.")
        revoke = sub.add_parser("revoke", help="Revoke every link of a customer, or one link (--link URL).")
        revoke.add_argument("--customer", default="", metavar="REF")
        revoke.add_argument("--company", default="", metavar="CODE")
        revoke.add_argument("--link", default="", metavar="URL", help="A link (URL or token) to revoke.")
        revoke.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        customer = None
        if options["customer"]:
            customer = services.customer_lookup(reference=options["customer"], company_code=options["company"])
        if options["action"] == "link":
            assert customer is not None
            contact = None
            if options["contact"]:
                contact = customer.contacts.filter(email__iexact=options["contact"].strip()).first()
                if contact is None:
                    raise errors.NotFound(UNKNOWN_CONTACT.format(customer=customer.reference, email=options["contact"]))
            link, token = services.link_create(customer=customer, contact=contact, actor=CLI_ACTOR)
            url = services.portal_url(token)
            self.say(url)
            return {
                "url": url,
                "customer": customer.reference,
                "company": customer.company.code,
                "contact": link.contact.email if link.contact else None,
                "expires_at": link.expires_at,
            }
        if options["action"] == "list":
            assert customer is not None
            now = clock.now()
            rows = [
                {
                    "prefix": link.prefix,
                    "contact": link.contact.email if link.contact else None,
                    "created_at": link.created_at,
                    "expires_at": link.expires_at,
                    "last_used_at": link.last_used_at,
                    "uses": link.uses,
                    "status": domain.link_state(expires_at=link.expires_at, revoked_at=link.revoked_at, now=now).value,
                }
                for link in customer.portal_links.select_related("contact").order_by("created_at", "id")
            ]
            for r in rows:
                self.say(f"{r['prefix']}…  {r['contact'] or '-':<32} until {r['expires_at']:%Y-%m-%d}  {r['status']}")
            return rows
        n = services.link_revoke(actor=CLI_ACTOR, customer=customer, token=options["link"])
        self.say(f"{n} link(s) revoked.")
        return {"revoked": n}
