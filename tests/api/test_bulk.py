"""POST /customers/bulk, /documents/bulk, /payments/bulk: the import files' rules, through the API."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from relance.api.routers import bulk
from relance.api.schemas_bulk import ITEM_MODELS, MAX_ITEMS
from relance.channels import jobs
from relance.channels.models import IdempotencyKey
from relance.core import errors
from relance.core.models import AuditEntry
from relance.ingest.models import ImportRun
from relance.ingest.rows import LAYOUTS
from relance.ledger.models import Allocation, Customer, Document, Payment
from tests.factories import CompanyFactory

from .conftest import API, ApiClient, assert_problem, token_for


def post(api: ApiClient, kind: str, items: Any, *, partial: bool = False, key: str | None = None, raw: bytes = b""):
    headers = api.headers()
    if key is not None:
        headers["Idempotency-Key"] = key
    path = f"{API}/{kind}/bulk" + ("?partial=true" if partial else "")
    body = raw or json.dumps({"items": items})
    return api.client.post(path, body, content_type="application/json", headers=headers)


def ok(response) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    return response.json()


def invoice(number: str, *, customer: str = "PAR001", company: str = "FR1", amount: Any = "120.00", **extra: Any):
    item = {
        "company": company,
        "customer_ref": customer,
        "number": number,
        "type": "invoice",
        "issue_date": "2026-06-01",
        "due_date": "2026-07-01",
        "currency": "EUR" if company == "FR1" else "GBP",
        "amount": amount,
        "tax_amount": "20.00",
    }
    return {**item, **extra}


def customer(ref: str, *, company: str = "FR1", **extra: Any) -> dict[str, Any]:
    return {"company": company, "customer_ref": ref, "name": f"Customer {ref}", "country": "FR", **extra}


def payment(reference: str, *, customer: str = "PAR001", amount: str = "50.00", **extra: Any) -> dict[str, Any]:
    item = {"company": "FR1", "customer_ref": customer, "reference": reference, "date": "2026-06-15"}
    return {**item, "currency": "EUR", "amount": amount, **extra}


def statuses(body: dict[str, Any]) -> list[str]:
    return [r["status"] for r in body["results"]]


@pytest.fixture
def admin(api_as) -> ApiClient:
    return api_as("admin")


# --- counts and per-item results -------------------------------------------------------------------


class TestDocuments:
    def test_new_documents_are_created_then_unchanged_then_updated(self, world, admin):
        items = [invoice("API-1"), invoice("API-2", customer="LYO001")]
        body = ok(post(admin, "documents", items))
        assert body["status"] == "loaded"
        assert body["counts"] == {"received": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
        created = {d.number: d for d in Document.objects.filter(number__startswith="API-")}
        assert [r["id"] for r in body["results"]] == [created["API-1"].pk, created["API-2"].pk]
        assert created["API-1"].amount == Decimal("120.00") and created["API-1"].source == "api"
        entry = AuditEntry.objects.get(action="import.documents")  # creations: one audit row per request
        assert (entry.actor, entry.changes["created"]) == (world.users["admin"], 2)
        run = ImportRun.objects.get(pk=entry.object_id)
        assert (run.file_name, run.status, run.mode) == ("API /api/v1/documents/bulk", "loaded", "atomic")

        assert statuses(ok(post(admin, "documents", items))) == ["unchanged", "unchanged"]

        items[1]["amount"] = "150.00"
        body = ok(post(admin, "documents", items))
        assert body["counts"] == {"received": 2, "created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
        assert statuses(body) == ["unchanged", "updated"]
        assert Document.objects.get(number="API-2").open_amount == Decimal("150.00")

    def test_a_credit_note_corrects_an_invoice_of_the_same_request(self, world, admin):
        note = invoice("API-CN", amount="20.00", type="credit_note", corrects_number="API-INV", tax_amount="0")
        body = ok(post(admin, "documents", [invoice("API-INV"), note]))
        assert statuses(body) == ["created", "created"]
        assert Document.objects.get(number="API-CN").corrects == Document.objects.get(number="API-INV")

    def test_a_number_twice_in_one_request_is_refused_at_its_second_item(self, world, admin):
        body = ok(post(admin, "documents", [invoice("API-1"), invoice("API-1", amount="130.00")], partial=True))
        assert statuses(body) == ["created", "rejected"]
        assert body["results"][1]["errors"][0]["loc"] == ["body", "items", 1, "number"]
        assert "appears twice in the request (first at item 0)" in body["results"][1]["errors"][0]["message"]


class TestCustomers:
    def test_customers_are_created_updated_and_left_unchanged(self, world, admin):
        items = [customer("API-C1", email="ap@c1.example"), customer("API-C2", agency="PAR", payment_terms_days=45)]
        body = ok(post(admin, "customers", items))
        assert statuses(body) == ["created", "created"]
        c1 = Customer.objects.get(reference="API-C1")
        assert body["results"][0]["id"] == c1.pk
        assert c1.contacts.get().email == "ap@c1.example"
        c2 = Customer.objects.get(reference="API-C2")
        assert (c2.agency, c2.payment_terms_days) == (world.par, 45)

        items[0]["name"] = "Renamed"
        body = ok(post(admin, "customers", items))
        assert body["counts"] == {"received": 2, "created": 0, "updated": 1, "unchanged": 1, "rejected": 0}
        assert Customer.objects.get(reference="API-C1").name == "Renamed"

    def test_an_existing_customer_is_updated_in_place(self, world, admin):
        body = ok(post(admin, "customers", [customer("PAR001", name="Atelier Paris SA", collector_email="")]))
        assert body["results"][0] == {
            "index": 0,
            "status": "updated",
            "id": world.customers["c_par_alice"].pk,
            "errors": [],
        }
        world.customers["c_par_alice"].refresh_from_db()
        assert world.customers["c_par_alice"].collector is None

    @pytest.mark.parametrize(
        ("extra", "collector"), [({}, "alice@example.com"), ({"collector_email": None}, None)], ids=["absent", "null"]
    )
    def test_an_absent_field_is_left_as_it_is_and_null_clears_it(self, world, admin, extra, collector):
        item = customer("PAR001", name="Atelier Paris", **extra)
        ok(post(admin, "customers", [item]))
        found = Customer.objects.get(reference="PAR001")
        assert (found.collector.email if found.collector else None) == collector


class TestPayments:
    def test_a_payment_is_created_with_its_allocation_then_unchanged(self, world, admin):
        target = world.documents["c_par_alice"]
        item = payment("API-PAY-1", invoice_number=target.number, allocated_amount="30.00")
        body = ok(post(admin, "payments", [item]))
        created = Payment.objects.get(reference="API-PAY-1")
        assert body["results"] == [{"index": 0, "status": "created", "id": created.pk, "errors": []}]
        assert created.unallocated_amount == Decimal("20.00")
        assert Allocation.objects.get(payment=created).amount == Decimal("30.00")
        assert statuses(ok(post(admin, "payments", [item]))) == ["unchanged"]

    def test_items_with_one_reference_split_a_payment_over_invoices(self, world, admin):
        second = invoice("API-INV-2")
        ok(post(admin, "documents", [second]))
        items = [
            payment("API-PAY-2", amount="80.00", invoice_number="INV-PAR001", allocated_amount="30.00"),
            payment("API-PAY-2", amount="80.00", invoice_number="API-INV-2", allocated_amount="50.00"),
        ]
        body = ok(post(admin, "payments", items))
        created = Payment.objects.get(reference="API-PAY-2")
        assert [(r["status"], r["id"]) for r in body["results"]] == [("created", created.pk)] * 2
        assert body["counts"]["created"] == 2  # counts are per item
        assert created.unallocated_amount == Decimal("0.00")

    def test_a_bad_item_of_a_split_payment_rejects_the_whole_payment(self, world, admin):
        items = [
            payment("API-PAY-3", amount="80.00", invoice_number="INV-PAR001", allocated_amount="30.00"),
            payment("API-PAY-3", amount="80.00", invoice_number="NO-SUCH-INVOICE", allocated_amount="50.00"),
        ]
        body = ok(post(admin, "payments", items, partial=True))
        assert statuses(body) == ["rejected", "rejected"]
        assert body["results"][1]["errors"][0]["loc"] == ["body", "items", 1, "invoice_number"]
        assert body["results"][0]["errors"][0]["message"] == bulk.GROUP_REJECTED.format(index=1, reference="API-PAY-3")
        assert not Payment.objects.filter(reference="API-PAY-3").exists()


# --- all or nothing, partial, problem details --------------------------------------------------------


def test_one_bad_item_refuses_the_whole_request_with_every_bad_item_listed(world, admin):
    items = [invoice(f"API-{n}") for n in range(5)]
    items[3]["amount"] = "12,34,5"
    items[4]["customer_ref"] = "NO-SUCH-CUSTOMER"
    before = Document.objects.count()
    response = post(admin, "documents", items)
    problem = assert_problem(response, 422, bulk.INVALID_ITEMS)
    assert problem["detail"] == bulk.DETAIL_INVALID_ITEMS.format(bad=2, total=5)
    assert [(e["loc"], e["field"]) for e in problem["errors"]] == [
        (["body", "items", 3, "amount"], "items.3.amount"),
        (["body", "items", 4, "customer_ref"], "items.4.customer_ref"),
    ]
    assert "not a decimal amount" in problem["errors"][0]["message"]
    assert "unknown customer in company FR1" in problem["errors"][1]["message"]
    assert Document.objects.count() == before
    assert not AuditEntry.objects.filter(action="import.documents").exists()
    run = ImportRun.objects.get()
    assert (run.status, run.error_count, run.errors[0]["row"], run.errors[0]["column"]) == ("refused", 2, 3, "amount")


def test_partial_writes_the_valid_items_and_reports_the_others(world, admin):
    items = [invoice("API-0"), invoice("API-1", due_date="2026-05-01"), invoice("API-2")]
    body = ok(post(admin, "documents", items, partial=True))
    assert body["status"] == "partial"
    assert body["counts"] == {"received": 3, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    rejected = body["results"][1]
    assert (rejected["status"], rejected["id"]) == ("rejected", None)
    assert rejected["errors"] == [
        {
            "loc": ["body", "items", 1, "due_date"],
            "field": "items.1.due_date",
            "message": "is before the issue date 2026-06-01 (got '2026-05-01')",
            "code": "invalid",
        }
    ]
    assert set(Document.objects.filter(number__startswith="API-").values_list("number", flat=True)) == {
        "API-0",
        "API-2",
    }


def test_required_fields_and_unknown_fields_are_named(world, admin):
    item = invoice("API-X", colour="blue")
    del item["due_date"]
    problem = assert_problem(post(admin, "documents", [item]), 422, bulk.INVALID_ITEMS)
    by_field = {e["field"]: e for e in problem["errors"]}
    assert by_field["items.0.due_date"]["message"] == "is required"
    assert by_field["items.0.due_date"]["code"] == "required"
    assert by_field["items.0.colour"]["code"] == "unknown_field"
    assert by_field["items.0.colour"]["message"] == bulk.UNKNOWN_FIELD.format(fields=", ".join(LAYOUTS["documents"]))


def test_float_amounts_are_refused_and_integers_accepted(world, admin):
    body = ok(post(admin, "documents", [invoice("API-F", amount=120.5), invoice("API-I", amount=120)], partial=True))
    assert statuses(body) == ["rejected", "created"]
    assert body["results"][0]["errors"] == [
        {
            "loc": ["body", "items", 0, "amount"],
            "field": "items.0.amount",
            "message": bulk.FLOAT_AMOUNT.format(value="120.5"),
            "code": "float_amount",
        }
    ]
    assert Document.objects.get(number="API-I").amount == Decimal("120.00")


@pytest.mark.parametrize(
    ("value", "code"),
    [(True, "type_error"), ({"v": 1}, "type_error"), (["FR1"], "type_error"), ("X" * 21, "too_long")],
    ids=["bool", "object", "list", "too long"],
)
def test_values_that_are_not_text_are_refused(world, admin, value, code):
    problem = assert_problem(post(admin, "documents", [invoice("API-T", company=value)]), 422, bulk.INVALID_ITEMS)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("items.0.company", code)]


@pytest.mark.parametrize(
    ("raw", "status", "loc"),
    [
        (b"{not json", 400, None),
        (b"[]", 422, ["body"]),
        (b'{"items": {}}', 422, ["body", "items"]),
        (b'{"items": [], "extra": 1}', 422, ["body", "extra"]),
        (b'{"items": ["text"]}', 422, ["body", "items", 0]),
        (b'{"items": [{"amount": NaN}]}', 400, None),
    ],
    ids=["not json", "not an object", "items not a list", "unknown body field", "item not an object", "NaN"],
)
def test_a_malformed_body_is_a_problem(world, admin, raw, status, loc):
    body = assert_problem(post(admin, "documents", None, raw=raw), status)
    if loc is not None:
        assert body["errors"][0]["loc"] == loc


def test_an_empty_list_writes_nothing(world, admin):
    assert ok(post(admin, "documents", []))["counts"]["received"] == 0


def test_more_than_the_maximum_of_items_is_refused(world, admin):
    problem = assert_problem(post(admin, "documents", [{}] * (MAX_ITEMS + 1)), 422)
    assert problem["errors"][0]["message"] == bulk.TOO_MANY_ITEMS.format(max=MAX_ITEMS, count=MAX_ITEMS + 1)


def test_a_body_over_the_endpoint_limit_is_refused_before_reading(world, admin, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_BODY_BYTES", 1000)
    problem = assert_problem(post(admin, "documents", [invoice(f"API-{n}") for n in range(20)]), 413)
    assert problem["code"] == bulk.CONTENT_TOO_LARGE


def test_unknown_query_parameters_are_refused(world, admin):
    response = admin.client.post(
        f"{API}/documents/bulk?partiel=true", "{}", content_type="application/json", headers=admin.headers()
    )
    assert assert_problem(response, 422)["errors"][0]["loc"] == ["query", "partiel"]


def test_ten_thousand_documents_in_one_call(world, admin, settings):
    items = [invoice(f"BULK-{n:05d}", customer=("PAR001", "LYO001", "FR0001")[n % 3]) for n in range(MAX_ITEMS)]
    raw = json.dumps({"items": items}, indent=2).encode()
    assert len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # above Django's default limit
    body = ok(post(admin, "documents", None, raw=raw))
    assert body["counts"]["created"] == MAX_ITEMS
    assert Document.objects.filter(number__startswith="BULK-").count() == MAX_ITEMS
    body = ok(post(admin, "documents", None, raw=raw))
    assert body["counts"]["unchanged"] == MAX_ITEMS


# --- permissions and scope ----------------------------------------------------------------------------


@pytest.mark.parametrize("user_key", ["auditor", "sales_rep_sam", "agency_manager_par"])
@pytest.mark.parametrize("kind", ["customers", "documents", "payments"])
def test_roles_that_do_not_write_the_ledger_get_a_403(world, api_as, user_key, kind):
    problem = assert_problem(post(api_as(user_key), kind, []), 403, "forbidden")
    if user_key == "auditor":
        assert problem["detail"] == errors.READ_ONLY_ROLE.format(role="auditor")


def test_anonymous_callers_get_a_401(world, anonymous):
    assert_problem(post(anonymous, "documents", []), 401)


class TestScope:
    """collector_bob sees LYO001 (FR1) only; credit_manager_uk sees UK1 only."""

    def messages(self, api, kind, items) -> list[str]:
        body = ok(post(api, kind, items, partial=True))
        return [e["message"] for r in body["results"] for e in r["errors"]]

    def test_a_company_outside_the_scope_is_refused_as_an_unknown_one(self, world, api_as):
        bob = api_as("collector_bob")
        outside = self.messages(bob, "documents", [invoice("API-S", company="UK1", customer="UK0001")])
        unknown = self.messages(bob, "documents", [invoice("API-S", company="ZZ9", customer="UK0001")])
        assert outside == [m.replace("ZZ9", "UK1") for m in unknown]
        cm_uk = api_as("credit_manager_uk")
        assert self.messages(cm_uk, "customers", [customer("API-C", company="FR1")]) == ["unknown company (got 'FR1')"]
        assert not Document.objects.filter(number="API-S").exists()

    def test_a_customer_outside_the_scope_is_refused_as_an_unknown_one(self, world, api_as):
        bob = api_as("collector_bob")
        outside = self.messages(bob, "documents", [invoice("API-S", customer="PAR001")])
        unknown = self.messages(bob, "documents", [invoice("API-S", customer="NOPE01")])
        assert outside == [m.replace("NOPE01", "PAR001") for m in unknown]
        outside = self.messages(bob, "payments", [payment("API-P", customer="PAR001")])
        unknown = self.messages(bob, "payments", [payment("API-P", customer="NOPE01")])
        assert outside == [m.replace("NOPE01", "PAR001") for m in unknown]
        outside = self.messages(bob, "payments", [payment("API-P", customer="", invoice_number="INV-PAR001")])
        unknown = self.messages(bob, "payments", [payment("API-P", customer="", invoice_number="NOPE")])
        assert outside == [m.replace("NOPE", "INV-PAR001") for m in unknown]

    def test_a_number_used_outside_the_scope_is_not_overwritten(self, world, api_as):
        bob = api_as("collector_bob")
        messages = self.messages(bob, "documents", [invoice("INV-PAR001", customer="LYO001", amount="999.00")])
        assert messages == [bulk.OUT_OF_SCOPE_DOCUMENT.format(number="INV-PAR001", company="FR1")]
        assert world.documents["c_par_alice"].customer_id == Document.objects.get(number="INV-PAR001").customer_id
        messages = self.messages(bob, "customers", [customer("PAR001")])
        assert messages == [bulk.OUT_OF_SCOPE_CUSTOMER.format(reference="PAR001", company="FR1")]

    def test_a_collector_writes_within_their_portfolio_only(self, world, api_as):
        bob = api_as("collector_bob")
        body = ok(post(bob, "documents", [invoice("API-BOB", customer="LYO001")]))
        assert statuses(body) == ["created"]
        mine = customer("API-BOB-C", collector_email="bob@example.com")
        theirs = customer("API-ALICE-C", collector_email="alice@example.com")
        body = ok(post(bob, "customers", [mine, theirs], partial=True))
        assert statuses(body) == ["created", "rejected"]
        assert body["results"][1]["errors"][0]["message"] == bulk.LEAVES_SCOPE
        assert not Customer.objects.filter(reference="API-ALICE-C").exists()
        unidentified = payment("API-BOB-P", customer="")
        assert self.messages(bob, "payments", [unidentified]) == [bulk.PAYMENT_LEAVES_SCOPE]
        assert not Payment.objects.filter(reference="API-BOB-P").exists()

    def test_a_company_of_its_own_is_outside_every_portfolio(self, world, api_as):
        CompanyFactory(code="DE1", currency="EUR")
        alice = api_as("collector_alice")
        assert self.messages(alice, "customers", [customer("API-DE", company="DE1")]) == ["unknown company (got 'DE1')"]


# --- idempotency -------------------------------------------------------------------------------------


class TestIdempotencyKey:
    def test_a_retry_replays_the_first_answer_without_running_again(self, world, admin):
        first = post(admin, "documents", [invoice("API-K")], key="key-1")
        assert first.status_code == 200
        Document.objects.filter(number="API-K").delete()  # would be created again if the request ran again
        again = post(admin, "documents", [invoice("API-K")], key="key-1")
        assert (again.status_code, again.content) == (200, first.content)
        assert again["Idempotent-Replayed"] == "true"
        assert not Document.objects.filter(number="API-K").exists()
        row = IdempotencyKey.objects.get(key="key-1")
        assert (row.user, row.status, row.path) == (world.users["admin"], 200, f"{API}/documents/bulk")
        assert row.expires_at - row.created_at == dt.timedelta(hours=24)

    def test_a_refusal_is_replayed_too(self, world, admin):
        first = post(admin, "documents", [invoice("API-K", amount="x")], key="key-2")
        assert_problem(first, 422, bulk.INVALID_ITEMS)
        again = post(admin, "documents", [invoice("API-K", amount="x")], key="key-2")
        assert (again.status_code, again.content) == (422, first.content)

    def test_the_same_key_with_another_body_is_refused(self, world, admin):
        ok(post(admin, "documents", [invoice("API-K")], key="key-3"))
        problem = assert_problem(
            post(admin, "documents", [invoice("API-K", amount="130.00")], key="key-3"), 422, bulk.IDEMPOTENCY_KEY_REUSED
        )
        assert problem["detail"] == bulk.DETAIL_KEY_REUSED
        assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
        assert_problem(post(admin, "documents", [invoice("API-K")], key="key-3", partial=True), 422)
        assert_problem(post(admin, "payments", [invoice("API-K")], key="key-3"), 422)

    def test_keys_belong_to_their_caller(self, world, admin, api_as):
        ok(post(admin, "documents", [invoice("API-K")], key="shared"))
        other = post(api_as("credit_manager"), "documents", [invoice("API-K", amount="130.00")], key="shared")
        assert statuses(ok(other)) == ["updated"]

    def test_a_key_is_forgotten_after_24_hours_and_pruned_daily(self, world, admin):
        ok(post(admin, "documents", [invoice("API-K")], key="key-4"))
        IdempotencyKey.objects.update(expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        response = post(admin, "documents", [invoice("API-K", amount="130.00")], key="key-4")
        assert statuses(ok(response)) == ["updated"]
        assert "Idempotent-Replayed" not in response
        IdempotencyKey.objects.update(expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        assert jobs.prune_idempotency_keys(dt.date(2026, 6, 30)) == {"idempotency_keys_deleted": 1}
        assert not IdempotencyKey.objects.exists()

    def test_an_invalid_key_is_refused(self, world, admin):
        problem = assert_problem(post(admin, "documents", [], key="has spaces"), 422)
        assert problem["errors"][0]["message"] == bulk.INVALID_KEY

    def test_a_request_that_failed_unexpectedly_frees_its_key(self, world, admin, monkeypatch):
        def boom(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(bulk, "_body_of", boom)
        admin.client.raise_request_exception = False
        assert_problem(post(admin, "documents", [invoice("API-K")], key="key-5"), 500)
        assert not IdempotencyKey.objects.filter(key="key-5").exists()
        assert not Document.objects.filter(number="API-K").exists()


# --- OpenAPI -----------------------------------------------------------------------------------------


@pytest.fixture
def schema(db, client):
    return client.get(f"{API}/openapi.json").json()


@pytest.mark.parametrize("kind", ["customers", "documents", "payments"])
def test_the_openapi_documents_the_bulk_endpoints(schema, kind):
    operation = schema["paths"][f"{API}/{kind}/bulk"]["post"]
    assert operation["operationId"] == f"bulk_{kind}"
    item = operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["items"]
    assert item["maxItems"] == MAX_ITEMS
    assert list(item["items"]["properties"]) == list(LAYOUTS[kind])
    assert {p["name"] for p in operation["parameters"]} == {"partial", "Idempotency-Key"}
    responses = operation["responses"]
    assert {"200", "400", "401", "403", "409", "413", "422", "500"} <= set(responses)
    assert list(responses["422"]["content"]) == ["application/problem+json"]
    assert set(responses["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1:]) == {"BulkResultOut"}


def test_the_item_models_have_the_columns_of_the_file_layouts():
    for kind, model in ITEM_MODELS.items():
        assert list(model.model_fields) == list(LAYOUTS[kind])
        required = {name for name, info in model.model_fields.items() if info.is_required()}
        assert required == {c for c, needed in LAYOUTS[kind].items() if needed}


def test_any_token_user_may_call_with_a_bearer_token_only(world):
    # the endpoints are CSRF-exempt for tokens, like every API endpoint
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    api = ApiClient(client, token_for(world.users["admin"]))
    assert ok(post(api, "documents", []))["status"] == "loaded"
