"""The staff side: the customer 360 page shows the portal links and the portal activity, within each role's scope."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relance.core.vocab import Role
from relance.portal import actions, services
from relance.portal.models import DisputeAttachment, PortalLink
from tests.factories import ContactFactory, DocumentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, world):
    def sign_in(key):
        client.force_login(world.users[key])
        return client

    return sign_in


@pytest.fixture
def acted(world):
    """Alice's Paris customer used its portal: a visit, a dispute with an attachment."""
    customer = world.customers["c_par_alice"]
    ContactFactory(customer=customer, email="ap@atelier.example")
    doc = DocumentFactory(customer=customer, number="PAR-F-1")
    link = services.link_resolve(services.portal_link(customer=customer).rstrip("/").rsplit("/", 1)[-1])
    actions.visit(link)
    actions.dispute_make(link=link, document_ids=[doc.pk], reason="price", message="Wrong price",
                         upload=SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote"))  # fmt: skip
    return customer


@pytest.mark.parametrize("user_key", sorted(k for k in ["admin", "collector_alice", "auditor", "sales_rep_sam",
                                                        "agency_manager_par", "collector_bob"]))  # fmt: skip
def test_the_portal_section_follows_each_roles_scope(signed_in, world, acted, user_key):
    response = signed_in(user_key).get(f"/customers/{acted.pk}/")
    if "c_par_alice" not in world.visible_to(user_key):
        assert response.status_code == 404
        return
    page = response.content.decode()
    assert 'data-testid="portal"' in page and "dispute_opened" in page and "portal_visit" in page
    assert "portal:ap@atelier.example" in page and "quote.pdf" in page
    can_manage = world.users[user_key].role not in (Role.AUDITOR, Role.SALES_REP)
    assert ("Create a portal link" in page) == can_manage


def test_a_collector_creates_a_link_shown_once_and_revokes_them(signed_in, world):
    customer = world.customers["c_par_alice"]
    client = signed_in("collector_alice")
    response = client.post(f"/customers/{customer.pk}/portal/link/", follow=True)
    url = re.search(r"(http://[^\s<]+/p/[^\s<]+/)", response.content.decode()).group(1)
    assert services.link_resolve(url.rsplit("/", 2)[-2]).customer == customer
    assert PortalLink.objects.get().created_by == "alice@example.com"
    assert url not in client.get(f"/customers/{customer.pk}/").content.decode()  # shown once
    client.post(f"/customers/{customer.pk}/portal/revoke/")
    assert services.link_resolve(url.rsplit("/", 2)[-2]) is None


@pytest.mark.parametrize(("user_key", "status"), [("auditor", 403), ("sales_rep_sam", 403), ("collector_bob", 404)])
def test_others_cannot_create_links(signed_in, world, user_key, status):
    customer = world.customers["c_par_alice"]
    assert signed_in(user_key).post(f"/customers/{customer.pk}/portal/link/").status_code == status
    assert not PortalLink.objects.exists()


def test_dispute_attachments_are_downloadable_within_scope_only(signed_in, world, acted):
    attachment = DisputeAttachment.objects.get()
    ok = signed_in("collector_alice").get(f"/portal/attachments/{attachment.pk}/")
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"%PDF-1.4 quote"
    assert signed_in("collector_bob").get(f"/portal/attachments/{attachment.pk}/").status_code == 404
