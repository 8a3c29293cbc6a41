from typing import Any

from django.core.management.base import CommandParser

from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.orgs import services
from relance.orgs.models import Company


def company_json(company: Company) -> dict[str, Any]:
    return {
        "code": company.code,
        "name": company.name,
        "country": company.country,
        "currency": company.currency,
        "siren": company.siren,
        "siret": company.siret,
        "vat_number": company.vat_number,
        "timezone": company.timezone,
        "bank_accounts": [{"iban": b.iban, "bic": b.bic} for b in company.bank_accounts.all()],
    }


class Command(RelanceCommand):
    json_output = False  # --json belongs to each subcommand
    help = "Add (or update) a company of the group, or list them."

    def add_options(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = sub.add_parser("add", help="Add or update the company CODE.")
        add.add_argument("code", help="Short code, unique in the group (e.g. FR1).")
        add.add_argument("--name", required=True)
        add.add_argument("--country", required=True, help="ISO 3166 code, e.g. FR.")
        add.add_argument("--currency", required=True, help="Base currency, ISO 4217, e.g. EUR.")
        add.add_argument("--siren", default="", help="French SIREN (9 digits), validated.")
        add.add_argument("--siret", default="", help="French SIRET (14 digits), validated.")
        add.add_argument("--vat", default="", help="VAT number with its country prefix, validated.")
        add.add_argument("--iban", default="", help="Bank account IBAN, validated.")
        add.add_argument("--bic", default="", help="Bank account BIC, validated.")
        add.add_argument("--timezone", default="", help="The company's time zone (default Europe/Paris).")
        add.add_argument("--json", action="store_true", help="Print the result as JSON.")
        lst = sub.add_parser("list", help="List the companies.")
        lst.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def run(self, **options: Any) -> Any:
        if options["action"] == "list":
            companies = [company_json(c) for c in Company.objects.prefetch_related("bank_accounts")]
            for c in companies:
                self.say(
                    f"{c['code']:<8} {c['name']:<40} {c['country']} {c['currency']} {c['siren'] or c['vat_number']}"
                )
            return companies
        company = services.company_add(
            actor=CLI_ACTOR,
            code=options["code"],
            name=options["name"],
            country=options["country"],
            currency=options["currency"],
            siren=options["siren"],
            siret=options["siret"],
            vat_number=options["vat"],
            iban=options["iban"],
            bic=options["bic"],
            timezone=options["timezone"],
        )
        self.say(f"Company {company.code} saved: {company.name} ({company.country}, {company.currency}).")
        return company_json(company)
