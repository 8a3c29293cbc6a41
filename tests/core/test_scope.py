"""The query-layer scope rule, checked directly for every role of the standard world."""

import pytest

from relance.core import errors, scope
from relance.core.models import AuditEntry
from relance.ledger.models import Customer, Document, Payment
from relance.orgs.models import Agency, Company
from tests.conftest import EXPECTED_SCOPE


def keys_of(world, queryset):
    by_pk = {c.pk: k for k, c in world.customers.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_each_role_sees_exactly_its_customers(world, user_key):
    user = world.users[user_key]
    assert keys_of(world, scope.restrict(user, Customer.objects.all())) == world.visible_to(user_key)


@pytest.mark.parametrize("user_key", sorted(EXPECTED_SCOPE))
def test_documents_follow_their_customer(world, user_key):
    user = world.users[user_key]
    seen = set(scope.restrict(user, Document.objects.all()).values_list("customer_id", flat=True))
    assert seen == {world.customers[k].pk for k in world.visible_to(user_key)}


@pytest.mark.parametrize(
    "user_key, sees_unidentified",
    [
        ("admin", True),
        ("credit_manager", True),
        ("credit_manager_uk", False),
        ("collector_alice", False),
        ("agency_manager_par", False),
        ("sales_rep_sam", False),
    ],
)
def test_unidentified_cash_is_visible_at_company_level_only(world, user_key, sees_unidentified):
    visible = scope.restrict(world.users[user_key], Payment.objects.all())
    assert visible.filter(pk=world.unidentified.pk).exists() is sees_unidentified


def test_an_inactive_user_sees_nothing(world):
    user = world.users["admin"]
    user.is_active = False
    assert not scope.restrict(user, Customer.objects.all()).exists()


def test_an_object_outside_the_scope_looks_missing(world):
    bob = world.users["collector_bob"]
    with pytest.raises(errors.NotFound):
        scope.get_visible(bob, Customer.objects.all(), pk=world.customers["c_par_alice"].pk)


def test_agency_manager_sees_only_own_agency_and_company(world):
    user = world.users["agency_manager_par"]
    assert list(scope.restrict(user, Agency.objects.all())) == [world.par]
    assert list(scope.restrict(user, Company.objects.all())) == [world.fr]


def test_auditor_is_read_only(world):
    with pytest.raises(errors.PermissionDenied, match="read-only"):
        scope.require(world.users["auditor"], "write_ledger")
    scope.require(world.users["auditor"], "view")


def test_require_refuses_an_object_out_of_scope(world):
    with pytest.raises(errors.NotFound):
        scope.require(world.users["collector_bob"], "edit_customer", world.customers["c_par_alice"])


def test_models_without_a_scope_rule_are_refused(world):
    from django.contrib.sessions.models import Session

    with pytest.raises(LookupError):
        scope.restrict(world.users["admin"], Session.objects.all())


def test_audit_rows_follow_their_customer(world):
    from relance.core import audit

    audit.record(actor="test", action="customer.update", obj=world.customers["c_lyo_bob"])
    audit.record(actor="test", action="customer.update", obj=world.customers["c_par_alice"])
    rows = scope.restrict(world.users["collector_bob"], AuditEntry.objects.all())
    assert set(rows.values_list("customer_id", flat=True)) == {world.customers["c_lyo_bob"].pk}
