"""Webhooks: the outbox, signed deliveries to a real HTTP receiver, retries, replays, management."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from relance.channels import domain, jobs, services, tasks, webhooks
from relance.channels.models import DeliveryState, WebhookDelivery, WebhookEvent, WebhookSubscription
from relance.core import clock, errors
from relance.core.models import AuditEntry
from tests.api.conftest import API, ApiClient, assert_problem, token_for

from .conftest import verify

PAYMENT_EVENTS = [webhooks.PAYMENT_RECEIVED, webhooks.PAYMENT_ALLOCATED]
DOCUMENT_EVENTS = [webhooks.DOCUMENT_CREATED, webhooks.DOCUMENT_UPDATED]


@pytest.fixture
def subscription(world, receiver) -> WebhookSubscription:
    return services.subscription_create(
        actor="test", url=receiver.url, event_types=PAYMENT_EVENTS + DOCUMENT_EVENTS, secret=receiver.secret
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a block in a transaction and then its on-commit callbacks (the test itself never commits)."""

    class Committed:
        def __enter__(self) -> None:
            self.capture = django_capture_on_commit_callbacks(execute=True)
            self.capture.__enter__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()

        def __exit__(self, *exc: Any) -> None:
            self.atomic.__exit__(*exc)
            self.capture.__exit__(*exc)

    return Committed()


def bulk(api: ApiClient, kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = api.client.post(
        f"{API}/{kind}/bulk", json.dumps({"items": items}), content_type="application/json", headers=api.headers()
    )
    assert response.status_code == 200, response.content
    return response.json()


def a_payment(reference: str = "PAY-WH-1", **extra: Any) -> dict[str, Any]:
    return {
        "company": "FR1",
        "customer_ref": "PAR001",
        "reference": reference,
        "date": "2026-06-15",
        "currency": "EUR",
        "amount": "40.00",
        **extra,
    }


def receive_a_payment(world, committed, reference: str = "PAY-WH-1", **extra: Any) -> dict[str, Any]:
    with committed:
        return bulk(
            ApiClient(committed_client(), token_for(world.users["admin"])), "payments", [a_payment(reference, **extra)]
        )


def committed_client():
    from django.test import Client

    return Client()


def sweep(at: dt.datetime) -> dict[str, int]:
    return services.retry_due(now=at)


# --- a delivery's life: retries, success, no double send, replay ---------------------------------------


def test_a_failing_receiver_gets_retries_until_it_answers_then_nothing_more(world, receiver, subscription, committed):
    receiver.fail_first = 2
    receive_a_payment(world, committed)
    delivery = WebhookDelivery.objects.select_related("event").get()
    event = delivery.event
    assert (event.type, event.company_id, event.payload["reference"]) == ("payment.received", world.fr.pk, "PAY-WH-1")

    # the first attempt, right after commit, fails; the delivery log keeps the answer
    assert len(receiver.calls) == 1 and receiver.calls[0].verified
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.last_response_body == "receiver not ready (1)"
    assert delivery.last_error == "the receiver answered HTTP 500"
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert dt.timedelta(minutes=1) <= wait <= dt.timedelta(minutes=1) * (1 + domain.JITTER)

    # nothing is due before then
    assert sweep(delivery.next_attempt_at - dt.timedelta(seconds=1))["attempted"] == 0
    assert len(receiver.calls) == 1

    # the second attempt fails too: the next one is about 5 minutes later
    first_retry = delivery.next_attempt_at
    assert sweep(first_retry) == {"attempted": 1, "delivered": 0, "retrying": 1, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_response_body) == (2, "receiver not ready (2)")
    assert dt.timedelta(minutes=5) <= delivery.next_attempt_at - first_retry <= dt.timedelta(minutes=5.5)

    # the third succeeds
    assert sweep(delivery.next_attempt_at) == {"attempted": 1, "delivered": 1, "retrying": 0, "failed": 0}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert (delivery.last_response_body, delivery.last_error, delivery.next_attempt_at) == ('{"ok": true}', "", None)
    assert delivery.delivered_at is not None

    # every attempt carried the same event, signed, with the documented headers
    assert len(receiver.calls) == 3
    assert all(call.verified for call in receiver.calls)
    assert len({call.body for call in receiver.calls}) == 1
    call = receiver.calls[0]
    assert call.json["id"] == str(event.id) and call.json["type"] == "payment.received"
    assert call.json["data"]["amount"] == "40.00" and call.json["data"]["customer"]["reference"] == "PAR001"
    assert call.headers["Relance-Event"] == "payment.received"
    assert call.headers["Relance-Delivery"] == str(delivery.pk)
    assert call.headers["Relance-Event-Id"] == str(event.id)
    assert call.headers["Relance-Signature"].startswith(f"t={call.headers['Relance-Timestamp']},v1=")
    assert call.headers["Content-Type"] == "application/json"

    # a delivered delivery is never sent again, however it is prodded
    later = clock.now() + dt.timedelta(days=3)
    assert sweep(later)["attempted"] == 0
    assert services.deliver(delivery.pk, now=later) is None
    assert tasks.deliver_webhook.call(delivery.pk) == "skipped"
    assert len(receiver.calls) == 3


def test_a_replay_sends_the_same_event_again(world, receiver, subscription, committed, api_as):
    receive_a_payment(world, committed)
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered"
    admin = api_as("admin")
    with committed:
        response = admin.client.post(
            f"{API}/webhooks/deliveries/{delivery.pk}/replay", headers=admin.headers(), content_type="application/json"
        )
    assert response.status_code == 202, response.content
    assert response.json()["id"] == delivery.pk
    assert len(receiver.calls) == 2
    first, replayed = receiver.calls
    assert replayed.verified and replayed.json["id"] == first.json["id"] and replayed.body == first.body
    assert replayed.headers["Relance-Delivery"] == first.headers["Relance-Delivery"]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.replays, delivery.attempts) == ("delivered", 1, 1)
    assert AuditEntry.objects.filter(action="webhook.replay", object_id=str(delivery.pk)).exists()


def test_the_cli_replays_a_delivery_or_every_delivery_of_an_event(world, receiver, subscription, committed):
    receive_a_payment(world, committed)
    delivery = WebhookDelivery.objects.get()
    out = run_json("webhooks", "replay", str(delivery.pk))
    assert [(r["id"], r["state"], r["last_status_code"]) for r in out] == [(delivery.pk, "delivered", 200)]
    out = run_json("webhooks", "replay", "--event", str(delivery.event_id))
    assert [r["event_id"] for r in out] == [str(delivery.event_id)]
    assert len(receiver.calls) == 3
    assert len({c.json["id"] for c in receiver.calls}) == 1


def test_a_receiver_with_the_wrong_secret_refuses_the_signature(world, receiver, subscription, committed):
    receiver.secret = "whsec_not-the-subscription-secret"
    receive_a_payment(world, committed)
    call = receiver.calls[0]
    assert not call.verified
    assert verify(subscription.secret, call.body, call.headers["Relance-Signature"])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.last_status_code, delivery.last_response_body) == ("pending", 401, "bad signature")


class TestSignature:
    body = b'{"id":"e1","type":"payment.received"}'
    secret = "whsec_0123456789abcdef"

    def test_the_documented_check_and_ours_agree(self):
        now = 1_780_000_000
        header = domain.signature_header(self.secret, now, self.body)
        assert verify(self.secret, self.body, header, now=now)
        assert domain.verify(self.secret, header, self.body, now=now)

    @pytest.mark.parametrize(
        ("secret", "body", "age"),
        [
            ("whsec_another-secret-000", body, 0),
            (secret, body + b" ", 0),
            (secret, body, domain.SIGNATURE_TOLERANCE.total_seconds() + 1),
        ],
        ids=["wrong secret", "tampered body", "replayed too late"],
    )
    def test_a_bad_signature_fails(self, secret, body, age):
        signed_at = 1_780_000_000
        header = domain.signature_header(self.secret, signed_at, self.body)
        assert not verify(secret, body, header, now=signed_at + age)
        assert not domain.verify(secret, header, body, now=int(signed_at + age))

    @pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "garbage"])
    def test_a_malformed_header_fails(self, header):
        assert not verify(self.secret, self.body, header)
        assert not domain.verify(self.secret, header, self.body, now=1_780_000_000)


# --- the retry schedule (pure) -------------------------------------------------------------------------

T0 = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("attempts", "wait"), list(enumerate(domain.BACKOFF, start=1)))
def test_each_failure_waits_longer_with_a_bounded_deterministic_jitter(attempts, wait):
    at = domain.next_attempt_at(delivery_id=42, attempts=attempts, failed_at=T0)
    assert wait <= at - T0 <= wait * (1 + domain.JITTER)
    assert at == domain.next_attempt_at(delivery_id=42, attempts=attempts, failed_at=T0)


def test_the_jitter_spreads_deliveries_that_failed_together():
    times = {domain.next_attempt_at(delivery_id=n, attempts=1, failed_at=T0) for n in range(50)}
    assert len(times) == 50


def test_there_is_no_retry_after_the_last_attempt():
    assert domain.next_attempt_at(delivery_id=1, attempts=domain.MAX_ATTEMPTS, failed_at=T0) is None


class FailingTransport:
    def __init__(self) -> None:
        self.calls = 0

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> webhooks.HttpAnswer:
        self.calls += 1
        return webhooks.HttpAnswer(503, "down for maintenance")


def test_a_delivery_fails_for_good_after_the_last_attempt_and_a_replay_starts_over(world, subscription, monkeypatch):
    transport = FailingTransport()
    monkeypatch.setattr(webhooks, "TRANSPORT", transport)
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    delivery = WebhookDelivery.objects.get()
    at = clock.now()
    for _ in range(domain.MAX_ATTEMPTS):
        sweep(at)
        delivery.refresh_from_db()
        at = delivery.next_attempt_at or at
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", domain.MAX_ATTEMPTS, None)
    assert transport.calls == domain.MAX_ATTEMPTS
    assert sweep(at + dt.timedelta(days=30))["attempted"] == 0
    replayed = services.delivery_replay(actor="test", delivery=delivery)
    assert (replayed.state, replayed.attempts, replayed.replays) == ("pending", 0, 1)


def test_a_receiver_that_does_not_answer_is_retried(world, subscription, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    WebhookSubscription.objects.update(url=f"http://127.0.0.1:{port}/nobody")
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    delivery = WebhookDelivery.objects.get()
    assert services.deliver(delivery.pk) is not None
    delivery.refresh_from_db()
    assert delivery.last_status_code is None and delivery.last_error.startswith("could not connect")
    assert delivery.state == "pending" and delivery.next_attempt_at is not None


def test_a_slow_receiver_times_out(world, receiver, subscription, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    receiver.delay = 1.0
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    delivery = services.deliver(WebhookDelivery.objects.get().pk)
    assert delivery.last_status_code is None and "0.2 seconds" in delivery.last_error
    assert delivery.state == "pending"


def test_a_delivery_being_sent_elsewhere_is_not_sent_again(world, receiver, subscription):
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    now = clock.now()
    WebhookDelivery.objects.update(claimed_until=now + dt.timedelta(minutes=1))  # another worker holds it
    delivery = WebhookDelivery.objects.get()
    assert services.deliver(delivery.pk, now=now) is None
    assert sweep(now)["attempted"] == 0
    assert receiver.calls == []
    assert sweep(now + dt.timedelta(minutes=2))["delivered"] == 1  # that worker died: its claim lapsed
    assert len(receiver.calls) == 1


def test_a_failed_attempt_is_retried_by_a_deferred_task_where_the_backend_can(world, subscription, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    transport = FailingTransport()
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    delivery = services.deliver(WebhookDelivery.objects.get().pk, transport=transport)
    backend = tasks.deliver_webhook.get_backend()
    (queued,) = backend.results
    assert queued.task.run_after == delivery.next_attempt_at
    assert queued.args == [delivery.pk] or queued.args == (delivery.pk,)


# --- the outbox ------------------------------------------------------------------------------------------


def test_an_event_nobody_subscribed_to_is_not_stored(world):
    with transaction.atomic():
        assert services.emit("payment.received", {"id": 1}, company_id=world.fr.pk) is None
    assert not WebhookEvent.objects.exists()


def test_an_unknown_event_type_is_a_programming_error(world):
    with pytest.raises(LookupError):
        services.emit("payment.teleported", {})


def test_deliveries_go_to_the_subscriptions_that_want_the_type_and_company(world, receiver):
    def sub(types: list[str], company: str | None = None, active: bool = True) -> WebhookSubscription:
        s = services.subscription_create(actor="test", url=receiver.url, event_types=types, company=company)
        if not active:
            WebhookSubscription.objects.filter(pk=s.pk).update(active=False)
        return s

    fr_only = sub(["payment.received"], "FR1")
    everywhere = sub(["payment.received", "document.created"])
    sub(["document.created"])
    sub(["payment.received"], active=False)
    with transaction.atomic():
        uk = services.emit("payment.received", {"id": 1}, company_id=world.uk.pk)
        fr = services.emit("payment.received", {"id": 2}, company_id=world.fr.pk)
    assert {d.subscription for d in uk.deliveries.all()} == {everywhere}
    assert {d.subscription for d in fr.deliveries.all()} == {fr_only, everywhere}
    assert all(d.state == "pending" and d.attempts == 0 for d in WebhookDelivery.objects.all())


def test_deliveries_are_sent_after_commit_only(world, receiver, subscription, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
            assert receiver.calls == []  # still in the transaction
    assert len(callbacks) == 1
    assert len(receiver.calls) == 1


def test_a_rolled_back_change_leaves_no_event(world, receiver, subscription, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
            raise RuntimeError("the change failed")
    assert callbacks == [] and receiver.calls == []
    assert not WebhookEvent.objects.exists()


# --- events emitted by the bulk endpoints ----------------------------------------------------------------


def test_the_documents_endpoint_emits_created_and_updated_documents(world, receiver, subscription, committed):
    admin = ApiClient(committed_client(), token_for(world.users["admin"]))
    item = {
        "company": "FR1",
        "customer_ref": "LYO001",
        "number": "WH-INV-1",
        "type": "invoice",
        "issue_date": "2026-06-01",
        "due_date": "2026-07-01",
        "currency": "EUR",
        "amount": "100.00",
    }
    with committed:
        bulk(admin, "documents", [item])
    with committed:
        bulk(admin, "documents", [item])  # unchanged: no event
    with committed:
        bulk(admin, "documents", [{**item, "amount": "110.00"}])
    assert [c.json["type"] for c in receiver.calls] == ["document.created", "document.updated"]
    data = receiver.calls[1].json["data"]
    assert (data["number"], data["amount"], data["open_amount"], data["status"]) == (
        "WH-INV-1",
        "110.00",
        "110.00",
        "open",
    )
    assert data["customer"]["reference"] == "LYO001" and data["company"] == "FR1"


def test_the_payments_endpoint_emits_received_and_allocated(world, receiver, subscription, committed):
    invoice = world.documents["c_par_alice"]
    receive_a_payment(world, committed, "PAY-WH-2", invoice_number=invoice.number, allocated_amount="25.00")
    types = [c.json["type"] for c in receiver.calls]
    assert sorted(types) == ["payment.allocated", "payment.received"]
    allocated = next(c.json["data"] for c in receiver.calls if c.json["type"] == "payment.allocated")
    assert allocated["amount"] == "25.00" and allocated["invoice"]["number"] == invoice.number
    assert allocated["payment"]["reference"] == "PAY-WH-2" and allocated["payment_unallocated_amount"] == "15.00"
    receive_a_payment(world, committed, "PAY-WH-2", invoice_number=invoice.number, allocated_amount="25.00")
    assert len(receiver.calls) == 2  # the same payment again: unchanged, nothing emitted


# --- management through the API ------------------------------------------------------------------------


def subscribe(api: ApiClient, **body: Any):
    payload = {"url": "https://erp.example.com/hooks", "event_types": ["payment.received"], **body}
    return api.client.post(
        f"{API}/webhooks/subscriptions", json.dumps(payload), content_type="application/json", headers=api.headers()
    )


def test_an_admin_creates_lists_and_deletes_subscriptions(world, api_as):
    admin = api_as("admin")
    response = subscribe(admin, description="ERP")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith(services.SECRET_PREFIX) and len(created["secret"]) > 40
    assert (created["company"], created["created_by"], created["active"]) == (None, "admin@example.com", True)
    assert created["secret"] == WebhookSubscription.objects.get().secret
    listed = admin.json("/webhooks/subscriptions")
    assert listed["count"] == 1 and "secret" not in listed["items"][0]
    assert "secret" not in admin.json(f"/webhooks/subscriptions/{created['id']}")
    assert AuditEntry.objects.filter(action="webhook.subscribe").exists()
    assert "secret" not in AuditEntry.objects.get(action="webhook.subscribe").changes
    response = admin.client.delete(f"{API}/webhooks/subscriptions/{created['id']}", headers=admin.headers())
    assert response.status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert AuditEntry.objects.filter(action="webhook.unsubscribe").exists()


def test_a_given_secret_is_kept(world, api_as):
    created = subscribe(api_as("admin"), secret="my-own-secret-of-20-chars").json()
    assert created["secret"] == "my-own-secret-of-20-chars"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"url": "ftp://erp.example.com/x"}, "url", services.INVALID_URL.format(value="ftp://erp.example.com/x")),
        ({"event_types": ["payment.teleported"]}, "event_types", None),
        ({"event_types": []}, "subscription.event_types", None),
        ({"secret": "short"}, "subscription.secret", None),
        ({"company": "ZZ9"}, "company", errors.UNKNOWN_COMPANY.format(code="ZZ9")),
    ],
    ids=["url", "unknown type", "no type", "short secret", "unknown company"],
)
def test_a_bad_subscription_is_a_422_naming_the_field(world, api_as, body, field, message):
    problem = assert_problem(subscribe(api_as("admin"), **body), 422)
    assert problem["errors"][0]["field"] == field
    if message:
        assert problem["errors"][0]["message"] == message


@pytest.mark.parametrize("user_key", ["collector_alice", "auditor", "sales_rep_sam", "agency_manager_par"])
def test_only_admins_and_credit_managers_manage_webhooks(world, api_as, user_key):
    api = api_as(user_key)
    assert_problem(subscribe(api), 403)
    assert_problem(api.get("/webhooks/subscriptions"), 403)
    assert_problem(api.get("/webhooks/deliveries"), 403)


def test_a_credit_manager_of_some_companies_manages_their_companies_only(world, api_as):
    group_wide = subscribe(api_as("admin")).json()
    cm_uk = api_as("credit_manager_uk")
    problem = assert_problem(subscribe(cm_uk), 422)
    assert problem["errors"][0]["message"] == services.COMPANY_REQUIRED.format(choices="UK1")
    assert_problem(subscribe(cm_uk, company="FR1"), 422)
    mine = subscribe(cm_uk, company="UK1")
    assert mine.status_code == 201 and mine.json()["company"] == "UK1"
    assert [s["id"] for s in cm_uk.items("/webhooks/subscriptions")] == [mine.json()["id"]]
    assert_problem(cm_uk.get(f"/webhooks/subscriptions/{group_wide['id']}"), 404)
    response = cm_uk.client.delete(f"{API}/webhooks/subscriptions/{group_wide['id']}", headers=cm_uk.headers())
    assert_problem(response, 404)
    assert len(api_as("credit_manager").items("/webhooks/subscriptions")) == 2


def test_the_delivery_log_lists_filters_and_shows_the_data(world, receiver, subscription, committed, api_as):
    receiver.fail_first = 1
    receive_a_payment(world, committed, "PAY-WH-3")
    receive_a_payment(world, committed, "PAY-WH-4")
    admin = api_as("admin")
    rows = admin.items("/webhooks/deliveries")
    assert [(r["state"], r["attempts"], r["last_status_code"]) for r in rows] == [
        ("pending", 1, 500),
        ("delivered", 1, 200),
    ]
    assert rows[0]["url"] == receiver.url and rows[0]["event"]["type"] == "payment.received"
    assert [r["id"] for r in admin.items("/webhooks/deliveries", {"state": "delivered"})] == [rows[1]["id"]]
    event_id = rows[0]["event"]["id"]
    assert [r["id"] for r in admin.items("/webhooks/deliveries", {"event": event_id})] == [rows[0]["id"]]
    detail = admin.json(f"/webhooks/deliveries/{rows[0]['id']}")
    assert detail["data"]["reference"] == "PAY-WH-3"
    assert_problem(admin.get("/webhooks/deliveries", {"state": "lost"}), 422)
    assert_problem(admin.get("/webhooks/deliveries", {"stat": "pending"}), 422)
    assert_problem(api_as("credit_manager_uk").get(f"/webhooks/deliveries/{rows[0]['id']}"), 404)


def test_the_event_types_are_listed(world, api_as):
    names = [t["name"] for t in api_as("admin").json("/webhooks/event-types")]
    assert set(names) >= {
        "document.overdue",
        "payment.received",
        "customer.risk_changed",
        "alert.created",
        "promise.broken",
        "dispute.opened",
        "document.created",
        "document.updated",
        "payment.allocated",
    }


def test_the_openapi_lists_the_webhook_endpoints(db, client):
    schema = client.get(f"{API}/openapi.json").json()
    paths = schema["paths"]
    assert set(paths[f"{API}/webhooks/subscriptions"]) == {"get", "post"}
    assert set(paths[f"{API}/webhooks/subscriptions/{{subscription_id}}"]) == {"get", "delete"}
    assert set(paths[f"{API}/webhooks/deliveries/{{delivery_id}}/replay"]) == {"post"}
    created = paths[f"{API}/webhooks/subscriptions"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"]["$ref"].endswith("/SubscriptionCreatedOut")
    assert "secret" in schema["components"]["schemas"]["SubscriptionCreatedOut"]["properties"]
    assert "secret" not in schema["components"]["schemas"]["SubscriptionOut"]["properties"]


# --- the command line and the daily job ----------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def run_json(*args: str) -> Any:
    return json.loads(run(*args, "--json"))


def test_the_cli_manages_subscriptions(world, receiver):
    receiver.secret = "cli-secret-0123456789"
    added = run_json("webhooks", "add", receiver.url, "--events", "payment.received,payment.allocated", "--secret",
                     "cli-secret-0123456789", "--company", "FR1")  # fmt: skip
    assert (added["secret"], added["company"], added["event_types"]) == (
        "cli-secret-0123456789",
        "FR1",
        ["payment.received", "payment.allocated"],
    )
    assert [s["id"] for s in run_json("webhooks", "list")] == [added["id"]]
    assert "secret" not in run_json("webhooks", "list")[0]
    assert "payment.received" in run("webhooks", "types")
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    assert [d["state"] for d in run_json("webhooks", "deliveries")] == ["pending"]
    assert run_json("webhooks", "retry") == {"attempted": 1, "delivered": 1, "retrying": 0, "failed": 0}
    assert [d["state"] for d in run_json("webhooks", "deliveries", "--state", "delivered")] == ["delivered"]
    assert run_json("webhooks", "remove", str(added["id"])) == {"deleted": added["id"]}
    with pytest.raises(Exception, match="unknown-type"):
        run("webhooks", "add", receiver.url, "--events", "unknown-type")


def test_the_daily_job_sweeps_and_forgets_old_finished_events(world, receiver, subscription):
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    result = jobs.webhooks_housekeeping(clock.today())
    assert (result["delivered"], result["events_deleted"]) == (1, 0)
    WebhookEvent.objects.update(created_at=clock.now() - dt.timedelta(days=jobs.EVENTS_KEPT_DAYS + 1))
    assert jobs.webhooks_housekeeping(clock.today())["events_deleted"] == 1
    assert not WebhookDelivery.objects.exists()


def test_deleting_a_subscription_stops_its_pending_deliveries(world, receiver, subscription):
    with transaction.atomic():
        services.emit("payment.received", {"id": 1}, company_id=world.fr.pk)
    WebhookSubscription.objects.update(active=False)
    delivery = services.deliver(WebhookDelivery.objects.get().pk)
    assert (delivery.state, delivery.last_error) == (DeliveryState.FAILED, services.SUBSCRIPTION_GONE)
    assert receiver.calls == []
    with pytest.raises(errors.ValidationError):
        services.delivery_replay(actor="test", delivery=delivery)
