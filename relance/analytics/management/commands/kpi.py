"""``relance kpi``: the KPIs of the group (or of one user's scope) at a date, as a table or JSON."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from relance.analytics import report, selectors
from relance.core import clock, errors, scope
from relance.core.management.base import CLI_ACTOR, RelanceCommand
from relance.orgs.models import User


class Command(RelanceCommand):
    help = (
        "Receivables KPIs at a date (default today): aged balance, DSO (countback and standard), days beyond terms, "
        "CEI, disputed, unapplied cash... consolidated in the group currency, or in --currency at that day's rates. "
        "Without --user, the whole group; with it, exactly that user's scope."
    )

    def add_options(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="Business date YYYY-MM-DD (default: today).")
        parser.add_argument("--company", default="", help="Company code.")
        parser.add_argument("--agency", default="", help="Agency code.")
        parser.add_argument("--collector", default="", help="Collector (e-mail).")
        parser.add_argument("--risk-class", default="", help="Customer risk class (A-E, X, or - for none).")
        parser.add_argument("--document-currency", default="", help="Only documents and payments in this currency.")
        parser.add_argument("--currency", default="", help="Presentation currency (default: the group currency).")
        parser.add_argument("--user", default=None, help="Within this user's scope (e-mail).")

    def run(self, **options: Any) -> dict[str, Any]:
        actor: Any = scope.SystemActor(CLI_ACTOR)
        if options["user"]:
            actor = _user(options["user"], "user")
        collector = _user(options["collector"], "collector").pk if options["collector"] else None
        params = report.parse_params(
            {
                "date": options["date"],
                "company": options["company"],
                "agency": options["agency"],
                "collector": collector,
                "risk_class": options["risk_class"],
                "document_currency": options["document_currency"],
                "currency": options["currency"],
            },
            today=clock.today(),
        )
        result = selectors.kpis(actor, as_of=params.as_of, filters=params.filters, currency=params.currency, trend=True)
        data = report.as_json(result)
        self._print(data)
        return data

    def _print(self, d: dict[str, Any]) -> None:
        cur = d["currency"]
        self.say(f"KPIs at {d['as_of']} in {cur}")
        rows = [
            ("Total receivables", d["total_receivables"]),
            ("Not due", d["not_due"]),
            ("Overdue", d["overdue"]),
            *((f"  {a['bucket']}", a["amount"]) for a in d["aging"]),
            ("DSO countback (days)", d["dso_countback"]),
            ("DSO standard (days)", d["dso_standard"]),
            ("Average days of payment", d["average_days_of_payment"]),
            ("Average days beyond terms", d["average_days_beyond_terms"]),
            ("CEI (%)", d["cei"]),
            ("Collection rate (%)", d["collection_rate"]),
            ("Disputed", d["disputed"]),
            ("Under promise", d["under_promise"]),
            ("Unapplied cash", d["unapplied_cash"]),
            ("Deposits", d["deposits"]),
            ("At risk", d["at_risk"]),
            ("Insured", d["insured"]),
            ("Factored", d["factored"]),
        ]
        for label, value in rows:
            self.say(f"{label:<28} {value if value is not None else '-':>18}")


def _user(email: str, field: str) -> User:
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        raise errors.ValidationError(errors.UNKNOWN_USER.format(email=email), field=field)
    return user
