"""Portal links: what reminders embed; signed, hashed, scoped, expiring, revocable."""

import datetime as dt
import json
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from relance.core import clock
from relance.portal import domain, services
from relance.portal.models import PortalLink
from tests.factories import CompanyFactory, ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


@override_settings(RELANCE_BASE_URL="https://pay.example.com")
def test_portal_link_is_an_absolute_url_for_the_main_ap_contact(client):
    customer = CustomerFactory()
    ContactFactory(customer=customer, is_main_ap=False, email="other@x.example")
    main = ContactFactory(customer=customer, is_main_ap=True)
    url = services.portal_link(customer=customer)
    assert url.startswith("https://pay.example.com/p/")
    link = PortalLink.objects.get()
    assert link.contact == main and link.customer == customer and link.company_id == customer.company_id
    assert services.link_resolve(_token(url)) == link


def test_only_a_digest_of_the_token_is_stored():
    customer = CustomerFactory()
    url = services.portal_link(customer=customer)
    token = _token(url)
    raw = token.split(".")[0]
    link = PortalLink.objects.get()
    assert link.digest == domain.token_digest(raw)
    stored = " ".join(str(v) for v in PortalLink.objects.values().get().values())
    assert raw not in stored


def test_each_call_makes_a_distinct_link():
    customer = CustomerFactory()
    assert services.portal_link(customer=customer) != services.portal_link(customer=customer)
    assert PortalLink.objects.count() == 2


def test_a_given_contact_is_used_and_must_belong_to_the_customer():
    customer = CustomerFactory()
    other = ContactFactory(customer=customer, is_main_ap=False)
    services.portal_link(customer=customer, contact=other)
    assert PortalLink.objects.get().contact == other
    stranger = ContactFactory()
    with pytest.raises(Exception, match="is not a contact of customer"):
        services.portal_link(customer=customer, contact=stranger)


@override_settings(RELANCE_PORTAL_LINK_DAYS=5)
def test_a_link_expires_after_the_configured_days():
    customer = CustomerFactory()
    start = dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC)
    with mock.patch.object(clock, "now", return_value=start):
        token = _token(services.portal_link(customer=customer))
    with mock.patch.object(clock, "now", return_value=start + dt.timedelta(days=5) - dt.timedelta(seconds=1)):
        assert services.link_resolve(token) is not None
    with mock.patch.object(clock, "now", return_value=start + dt.timedelta(days=5)):
        assert services.link_resolve(token) is None


def test_a_revoked_link_no_longer_resolves_and_others_survive():
    customer = CustomerFactory()
    first = _token(services.portal_link(customer=customer))
    second = _token(services.portal_link(customer=customer))
    assert services.link_revoke(actor="test", token=first) == 1
    assert services.link_resolve(first) is None
    assert services.link_resolve(second) is not None
    assert services.link_revoke(actor="test", customer=customer) == 1
    assert services.link_resolve(second) is None


@pytest.mark.parametrize("how", ["wrong-signature", "unknown-but-signed"])
def test_a_wrong_token_resolves_to_nothing(how):
    customer = CustomerFactory()
    token = _token(services.portal_link(customer=customer))
    if how == "wrong-signature":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        token = domain.sign_token(domain.new_raw_token(), services._secret())
    assert services.link_resolve(token) is None


def test_the_cli_prints_a_link_and_json(settings):
    company = CompanyFactory(code="FRX")
    customer = CustomerFactory(company=company, reference="ACME")
    ContactFactory(customer=customer, email="ap@acme.example")
    out = StringIO()
    call_command("portal", "link", "--customer", "ACME", stdout=out)
    url = out.getvalue().strip()
    assert url.startswith(settings.RELANCE_BASE_URL + "/p/")
    assert services.link_resolve(_token(url)).customer == customer
    out = StringIO()
    call_command("portal", "link", "--customer", "ACME", "--company", "FRX", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["contact"] == "ap@acme.example" and data["company"] == "FRX"
    assert services.link_resolve(_token(data["url"])).customer == customer


def test_the_cli_asks_for_a_company_when_the_reference_is_ambiguous():
    CustomerFactory(company=CompanyFactory(code="A1"), reference="DUP")
    CustomerFactory(company=CompanyFactory(code="B1"), reference="DUP")
    with pytest.raises(CommandError, match="add --company"):
        call_command("portal", "link", "--customer", "DUP", stdout=StringIO())
    with pytest.raises(CommandError, match="Unknown customer"):
        call_command("portal", "link", "--customer", "NOPE", stdout=StringIO())


def test_the_cli_revokes_a_customers_links():
    customer = CustomerFactory(reference="REV")
    token = _token(services.portal_link(customer=customer))
    out = StringIO()
    call_command("portal", "revoke", "--customer", "REV", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"revoked": 1}
    assert services.link_resolve(token) is None


def test_the_portal_page_opens_with_a_valid_link_and_is_neutral_otherwise(client):
    customer = CustomerFactory(name="Visible Customer SAS")
    url = services.portal_link(customer=customer)
    path = url.split("://", 1)[1].split("/", 1)[1]
    ok = client.get("/" + path)
    assert ok.status_code == 200 and "Visible Customer SAS" in ok.content.decode()
    services.link_revoke(actor="test", customer=customer)
    revoked = client.get("/" + path)
    wrong = client.get("/p/nonsense.token/")
    assert revoked.status_code == wrong.status_code == 404
    assert "Visible Customer SAS" not in revoked.content.decode()
    assert revoked.content == wrong.content


def test_the_cli_lists_a_customers_links_without_their_urls():
    customer = CustomerFactory(reference="LST")
    ContactFactory(customer=customer, email="ap@lst.example")
    first = services.portal_link(customer=customer)
    services.portal_link(customer=customer)
    services.link_revoke(actor="test", token=_token(first))
    out = StringIO()
    call_command("portal", "list", "--customer", "LST", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert [r["status"] for r in rows] == ["revoked", "valid"]
    assert rows[0]["contact"] == "ap@lst.example"
    assert _token(first) not in out.getvalue() and _token(first).split(".")[0] not in out.getvalue()
