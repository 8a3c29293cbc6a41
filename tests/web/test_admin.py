"""The Django admin: reference data editable with an audit row, the ledger and audit trail read-only, lists scoped."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from relance.core.models import AuditEntry
from relance.orgs.models import Agency, User


@pytest.fixture
def root(client, world):
    user = User.objects.create_superuser("root@example.com", "x-secret-123")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "model",
    [
        "orgs/company",
        "orgs/agency",
        "orgs/user",
        "orgs/group",
        "ledger/customer",
        "ledger/document",
        "ledger/payment",
        "ledger/allocation",
        "ledger/contact",
        "ledger/legalentity",
        "ledger/exchangerate",
        "collections/dispute",
        "core/auditentry",
    ],
)
def test_each_registered_model_lists_in_the_admin(client, root, model):
    assert client.get(f"/admin/{model}/").status_code == 200


def test_the_user_add_form_asks_for_an_email(client, root):
    html = client.get("/admin/orgs/user/add/").content.decode()
    assert 'name="email"' in html and 'name="role"' in html


def test_audit_entries_cannot_be_added_changed_or_deleted(client, root, world):
    entry = AuditEntry.objects.first() or _some_audit_entry(world, root)
    assert client.get("/admin/core/auditentry/add/").status_code == 403
    assert client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"/admin/core/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk, action=entry.action).exists()


def _some_audit_entry(world, actor):
    from relance.core import audit

    return audit.record(actor=actor, action="test", obj=world.customers["c_par_alice"])


def test_documents_are_read_only_in_the_admin(client, root, world):
    doc = world.documents["c_par_alice"]
    assert client.get("/admin/ledger/document/add/").status_code == 403
    response = client.post(f"/admin/ledger/document/{doc.pk}/change/", {"number": "HACKED"})
    assert response.status_code == 403
    doc.refresh_from_db()
    assert doc.number == "INV-PAR001"


def test_changing_reference_data_writes_an_audit_row(client, root, world):
    response = client.post(
        f"/admin/orgs/agency/{world.par.pk}/change/", {"code": "PAR", "name": "Paris Centre", "company": world.fr.pk}
    )
    assert response.status_code == 302
    assert Agency.objects.get(pk=world.par.pk).name == "Paris Centre"
    entry = AuditEntry.objects.filter(action="agency.admin_update").get()
    assert entry.actor == root
    assert entry.changes == {"name": ["Paris", "Paris Centre"]}


def test_a_staff_user_who_is_not_superuser_sees_only_their_scope_in_the_admin(client, world):
    bob = world.users["collector_bob"]
    bob.is_staff = True
    bob.save()
    bob.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(bob)
    html = client.get("/admin/ledger/customer/").content.decode()
    assert "LYO001" in html
    assert "PAR001" not in html and "UK0001" not in html
    other = world.customers["c_par_alice"]
    assert client.get(f"/admin/ledger/customer/{other.pk}/change/").status_code in (302, 404)
