"""`relance kpi`, `GET /api/v1/kpi` and the dashboard give the same figures, within the caller's scope."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

EXAMPLE_KEYS = {
    "currency", "total_receivables", "not_due", "overdue", "aging", "dso_countback", "dso_standard",
    "average_days_beyond_terms", "cei", "disputed", "unapplied_cash",
}  # fmt: skip


def cli(*args):
    out = StringIO()
    call_command("kpi", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_cli_json_has_the_named_keys_as_decimal_strings(example_ledger):
    data = cli()
    assert EXAMPLE_KEYS <= set(data)
    assert data["currency"] == "EUR"
    assert data["total_receivables"] == "2000.00"
    assert data["aging"][0] == {"bucket": "not_due", "min_days": None, "max_days": 0, "amount": "500.00"}
    assert data["aging"][-1] == {"bucket": "181+", "min_days": 181, "max_days": None, "amount": "0.00"}
    assert (data["dso_countback"], data["dso_standard"], data["cei"]) == ("109.6", "138.5", "21.1")
    assert data["average_days_beyond_terms"] == "13.3"
    assert (data["disputed"], data["unapplied_cash"]) == ("500.00", "600.00")


def test_cli_presentation_currency_and_past_date(example_ledger):
    assert cli("--currency", "GBP")["total_receivables"] == "1700.00"
    assert cli("--date", "2026-03-10")["total_receivables"] == "1000.00"
    assert cli("--company", "UK1")["total_receivables"] == "700.00"


@pytest.mark.parametrize("args", [["--date", "2026-13-01"], ["--company", "NOPE"], ["--currency", "EURO"]])
def test_cli_refuses_bad_input(example_ledger, args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        cli(*args)


def test_api_and_cli_agree(example_ledger, client):
    client.force_login(example_ledger.users["credit_manager"])
    api = client.get("/api/v1/kpi").json()
    assert api == cli()
    assert client.get("/api/v1/kpi", {"date": "2026-04-16", "currency": "GBP"}).json() == cli(
        "--date", "2026-04-16", "--currency", "GBP"
    )


def test_api_is_scoped_to_the_collector(example_ledger, client):
    client.force_login(example_ledger.users["collector"])
    assert client.get("/api/v1/kpi").json()["total_receivables"] == "1300.00"
    assert cli("--user", "alice@example.com")["total_receivables"] == "1300.00"


def test_api_bad_parameters_are_problem_details(example_ledger, client):
    client.force_login(example_ledger.users["credit_manager"])
    r = client.get("/api/v1/kpi", {"date": "yesterday"})
    assert r.status_code == 422 and r["Content-Type"].startswith("application/problem+json")
    assert "date" in r.json()["detail"]
    assert client.get("/api/v1/kpi", {"compagny": "FR1"}).status_code == 422


def test_api_needs_authentication(example_ledger, client):
    assert client.get("/api/v1/kpi").status_code == 401
