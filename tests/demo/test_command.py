"""``relance demo``: options, JSON output, the login table, and refusing a database that has companies."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from relance.core.vocab import Role
from relance.ledger.models import Document
from relance.orgs.models import Company
from relance.orgs.services import current_group

pytestmark = pytest.mark.django_db

ARGS = ["--customers", "12", "--invoices", "300", "--as-of", "2026-06-30"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_json_output_parses_and_lists_a_login_for_every_role():
    data = json.loads(run(*ARGS, "--json"))
    assert data["status"] == "created"
    assert data["as_of"] == "2026-06-30" and data["seed"] == 42
    assert data["counts"]["customers"] == 12 and data["counts"]["invoices"] == 300
    assert {login["role"] for login in data["logins"]} == set(Role.values)
    assert all(login["password"] == "relance-demo" for login in data["logins"])
    assert all(login["email"].endswith("@demo.relance.test") for login in data["logins"])


def test_text_output_prints_the_logins_table():
    text = run(*ARGS)
    assert "Demo group created" in text
    assert "collector1@demo.relance.test" in text and "relance-demo" in text
    assert "E-mail" in text and "Scope" in text


def test_if_empty_does_nothing_on_a_database_that_has_a_company():
    run(*ARGS, "--json")
    documents = Document.objects.count()
    assert "demo data not loaded" in run(*ARGS, "--if-empty")
    assert json.loads(run(*ARGS, "--if-empty", "--json"))["status"] == "skipped"
    assert Document.objects.count() == documents
    assert Company.objects.count() == 3


def test_without_if_empty_a_database_with_companies_is_refused_with_advice():
    Company.objects.create(group=current_group(), code="ACME", name="Acme", country="FR", currency="EUR")
    with pytest.raises(CommandError, match="already has 1 company .*fresh database"):
        run(*ARGS)
    assert Document.objects.count() == 0


def test_if_empty_on_an_empty_database_generates():
    assert json.loads(run(*ARGS, "--if-empty", "--json"))["status"] == "created"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "30/06/2026"], "not a date"),
        (["--customers", "0"], "at least 1"),
        (["--invoices", "-1"], "cannot be negative"),
    ],
)
def test_bad_options_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
