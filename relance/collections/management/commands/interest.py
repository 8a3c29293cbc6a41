import datetime as dt
from typing import Any

from django.core.management.base import CommandParser

from relance.collections import interest
from relance.core import clock, errors
from relance.core.management.base import RelanceCommand
from relance.ledger.models import Customer


class Command(RelanceCommand):
    help = (
        "A customer's late-payment interest statement: interest period by period and recovery indemnities not "
        "claimed yet, and what was claimed before (nothing is written). "
        "`relance interest --customer REF [--company CODE] [--currency EUR] [--date D]`."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--customer", required=True, help="Customer reference.")
        parser.add_argument("--company", default="", help="Company code (when the reference is in several).")
        parser.add_argument("--currency", default="", help="Currency (default: the company's).")
        parser.add_argument("--date", type=dt.date.fromisoformat, default=None, help="As of (YYYY-MM-DD).")

    def run(self, **options: Any) -> dict[str, Any]:
        qs = Customer.objects.filter(reference=options["customer"]).select_related("company")
        if options["company"]:
            qs = qs.filter(company__code=options["company"].upper())
        found = list(qs[:2])
        if len(found) != 1:
            what = "Unknown customer" if not found else "Several customers have the reference"
            raise errors.ValidationError(f"{what} {options['customer']!r}; give --company.", field="customer")
        customer = found[0]
        currency = options["currency"].upper() or customer.company.currency
        as_of = options["date"] or clock.today()
        st = interest.statement(customer, currency, as_of)
        lines = [{k: v for k, v in x.items() if k != "document"} for x in st["lines"]]
        for x in lines:
            period = (
                f" {x['period_from']}..{x['period_to']} ({x['days']} d at {x['rate']} %)" if x["period_from"] else ""
            )
            self.say(f"{x['number']} {x['kind']}{period}: {x['amount']} {x['currency']}")
        self.say(f"Total not claimed yet: {st['total']} {currency}; claimed before: {st['claimed_total']} {currency}.")
        return {
            "customer_ref": customer.reference,
            "currency": currency,
            "as_of": as_of,
            "applies": st["applies"],
            "lines": lines,
            "total": st["total"],
            "claimed_total": st["claimed_total"],
        }
