"""Alerts: raised once while the condition lasts, cleared when it ends, handled within scope, audited."""

from __future__ import annotations

import datetime as dt

import pytest

from relance.alerts import selectors, services
from relance.alerts.models import Alert, AlertComment, AlertStatus
from relance.channels import services as channels
from relance.channels.models import WebhookEvent
from relance.core import errors
from relance.core.models import AuditEntry

DAY = dt.date(2026, 6, 30)


def _raise(world, customer_key="c_par_alice", **kw):
    customer = world.customers[customer_key] if customer_key else None
    args = dict(
        kind="risk.limit_overrun",
        company=customer.company if customer else world.fr,
        customer=customer,
        key="",
        title="Credit limit exceeded",
        as_of=DAY,
    )
    args.update(kw)
    return services.alert_raise(**args)


def test_an_alert_is_raised_once_while_its_condition_lasts(world):
    first, created = _raise(world)
    again, created_again = _raise(world, as_of=DAY + dt.timedelta(days=1), title="other words")
    assert created and not created_again
    assert again.pk == first.pk
    assert Alert.objects.count() == 1
    assert AuditEntry.objects.filter(action="alert.raise").count() == 1


def test_a_different_key_or_customer_is_another_alert(world):
    _raise(world, key="INV-1")
    _raise(world, key="INV-2")
    _raise(world, customer_key="c_lyo_bob", key="INV-1")
    _raise(world, customer_key=None, key="INV-1")
    _raise(world, customer_key=None, key="INV-1")
    assert Alert.objects.count() == 4


def test_a_cleared_alert_is_closed_and_a_new_occurrence_is_a_new_alert(world):
    first, _ = _raise(world)
    assert services.alert_clear(kind="risk.limit_overrun", company=world.fr, customer=first.customer, as_of=DAY) == 1
    first.refresh_from_db()
    assert first.status == AlertStatus.CLOSED and first.cleared_on == DAY
    assert services.alert_clear(kind="risk.limit_overrun", company=world.fr, customer=first.customer, as_of=DAY) == 0
    second, created = _raise(world, as_of=DAY + dt.timedelta(days=3))
    assert created and second.pk != first.pk


def test_creation_emits_the_alert_created_webhook_once(world):
    channels.subscription_create(
        actor=world.users["admin"], url="https://erp.example/hooks", event_types=["alert.created"]
    )
    alert, _ = _raise(world)
    _raise(world)
    events = WebhookEvent.objects.filter(type="alert.created")
    assert events.count() == 1
    payload = events.get().payload
    assert payload["id"] == alert.pk and payload["kind"] == "risk.limit_overrun"


def test_a_customer_of_another_company_is_refused(world):
    with pytest.raises(errors.ValidationError):
        _raise(world, customer_key="c_uk_alice", company=world.fr)


@pytest.mark.parametrize(
    "user_key, sees_customer_alert, sees_company_alert",
    [
        ("admin", True, True),
        ("credit_manager", True, True),
        ("credit_manager_uk", False, False),
        ("auditor", True, True),
        ("collector_alice", True, False),
        ("collector_bob", False, False),
        ("sales_rep_sam", True, False),
        ("agency_manager_par", True, False),
        ("agency_manager_none", False, False),
    ],
)
def test_users_see_the_alerts_of_their_customers_and_company_alerts_at_company_level(
    world, user_key, sees_customer_alert, sees_company_alert
):
    customer_alert, _ = _raise(world, customer_key="c_par_alice")
    company_alert, _ = _raise(world, customer_key=None, kind="ledger.stale")
    visible = set(selectors.alerts_for(world.users[user_key]).values_list("pk", flat=True))
    assert (customer_alert.pk in visible) is sees_customer_alert
    assert (company_alert.pk in visible) is sees_company_alert


def test_acknowledge_assign_and_comment_are_audited(world):
    alert, _ = _raise(world)
    alice = world.users["collector_alice"]
    services.alert_acknowledge(actor=alice, alert=alert)
    services.alert_assign(actor=world.users["credit_manager"], alert=alert, user=alice)
    comment = services.alert_comment(actor=alice, alert=alert, text="Called the customer, waiting for the CFO.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == alice
    assert alert.assigned_to == alice
    assert AlertComment.objects.get() == comment and comment.author == alice
    actions = set(AuditEntry.objects.filter(object_id=str(alert.pk)).values_list("action", flat=True))
    assert {"alert.acknowledge", "alert.assign", "alert.comment"} <= actions


def test_the_auditor_cannot_handle_alerts_and_others_cannot_reach_alerts_outside_their_scope(world):
    alert, _ = _raise(world)
    with pytest.raises(errors.PermissionDenied):
        services.alert_acknowledge(actor=world.users["auditor"], alert=alert)
    with pytest.raises(errors.NotFound):
        services.alert_comment(actor=world.users["collector_bob"], alert=alert, text="hello")


def test_an_alert_is_only_assigned_to_someone_who_can_see_it(world):
    alert, _ = _raise(world)
    with pytest.raises(errors.ValidationError, match="outside their scope"):
        services.alert_assign(actor=world.users["admin"], alert=alert, user=world.users["collector_bob"])


def test_a_closed_alert_cannot_be_acknowledged_and_an_empty_comment_is_refused(world):
    alert, _ = _raise(world)
    with pytest.raises(errors.ValidationError):
        services.alert_comment(actor=world.users["admin"], alert=alert, text="  ")
    services.alert_clear(kind=alert.kind, company=alert.company, customer=alert.customer, as_of=DAY)
    with pytest.raises(errors.ValidationError):
        services.alert_acknowledge(actor=world.users["admin"], alert=alert)


def test_a_risk_alert_title_is_shown_in_the_readers_language(world):
    from django.utils import translation

    alert, _ = _raise(world, kind="risk.class_downgrade", title="Risk class lowered from B to D",
                      data={"old": "B", "new": "D"})  # fmt: skip
    with translation.override("fr"):
        assert alert.display_title == "Classe de risque abaissée de B à D"
    with translation.override("en"):
        assert alert.display_title == "Risk class lowered from B to D"
    other, _ = _raise(world, kind="ledger.stale", title="Stale data")
    assert other.display_title == "Stale data"


def test_amounts_in_risk_alert_titles_use_the_readers_money_format(world):
    from django.utils import translation

    from relance.risk.monitor import title_for

    data = {"exposure": "56268.52", "limit": "20000.00", "currency": "EUR"}
    alert, _ = _raise(world, kind="risk.limit_overrun", title=title_for("risk.limit_overrun", data), data=data)
    assert alert.title == "Exposure €56,268.52 above the credit limit of €20,000.00"  # stored: English
    assert alert.data == data  # the data stays machine-readable
    with translation.override("fr"):
        title = alert.display_title.replace("\u202f", " ").replace("\xa0", " ")
        assert title == "Encours de 56 268,52 € au-dessus de la limite de crédit de 20 000,00 €"
    with translation.override("en"):
        assert alert.display_title == "Exposure €56,268.52 above the credit limit of €20,000.00"
    overdue = {"number": "F-1", "amount": "1234.5", "currency": "GBP"}
    other, _ = _raise(world, kind="risk.new_overdue", key="F-1", title=title_for("risk.new_overdue", overdue),
                      data=overdue)  # fmt: skip
    with translation.override("en"):
        assert other.display_title == "Invoice F-1 overdue: £1,234.50"
