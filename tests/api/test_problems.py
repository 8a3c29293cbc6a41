"""Every error is RFC 9457 problem details, naming what is wrong and where."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory

from relance.api import problems
from relance.api.problems import FieldError, Problem
from relance.api.urls import api
from relance.core import errors

from .conftest import API, ApiClient, assert_problem, token_for


@pytest.fixture
def admin(world, api_as) -> ApiClient:
    return api_as("admin")


class TestInvalidQueryParameters:
    def test_an_unreadable_timestamp_is_a_422_naming_the_parameter(self, admin):
        body = assert_problem(admin.get("/customers", {"updated_since": "yesterday"}), 422, problems.VALIDATION_ERROR)
        assert body["title"] == "Unprocessable Content"
        assert "updated_since" in body["detail"]
        [error] = body["errors"]
        assert error["loc"] == ["query", "updated_since"]
        assert error["field"] == "updated_since"
        assert error["message"].startswith("Input should be a valid datetime")
        assert error["code"] == "datetime_from_date_parsing"

    @pytest.mark.parametrize(
        "params, field",
        [
            ({"limit": 1001}, "limit"),
            ({"limit": 0}, "limit"),
            ({"offset": -1}, "offset"),
            ({"collector": "alice"}, "collector"),
            ({"overdue": "maybe"}, "overdue"),
        ],
    )
    def test_out_of_range_or_mistyped_values_name_their_parameter(self, admin, params, field):
        body = assert_problem(admin.get("/customers", params), 422)
        assert [e["field"] for e in body["errors"]] == [field]

    def test_every_invalid_parameter_is_listed(self, admin):
        body = assert_problem(admin.get("/documents", {"type": "receipt", "status": "paid", "limit": "x"}), 422)
        assert {e["field"] for e in body["errors"]} == {"type", "status", "limit"}

    def test_an_unknown_currency_says_what_to_send(self, admin):
        body = assert_problem(admin.get("/payments", {"currency": "EURO"}), 422)
        [error] = body["errors"]
        assert error == {
            "loc": ["query", "currency"],
            "field": "currency",
            "message": errors.UNKNOWN_CURRENCY.format(value="EURO"),
            "code": "unknown_currency",
        }

    def test_a_misspelt_parameter_is_refused_rather_than_ignored(self, admin):
        body = assert_problem(admin.get("/customers", {"updated_sinse": "2026-01-01"}), 422)
        [error] = body["errors"]
        assert error["field"] == "updated_sinse"
        assert error["code"] == "unknown_parameter"
        assert "updated_since" in error["message"]

    def test_an_empty_parameter_means_no_filter(self, world, admin):
        page = admin.json("/customers", {"currency": "", "collector": "", "overdue": ""})
        assert page["count"] == len(world.customers)


class TestRoutingErrors:
    def test_an_unknown_path_is_a_404_problem(self, admin):
        body = assert_problem(admin.get("/invoices"), 404, problems.NOT_FOUND)
        assert "/api/v1/docs" in body["detail"]

    def test_a_trailing_slash_is_an_unknown_path(self, admin):
        assert_problem(admin.get("/customers/"), 404, problems.NOT_FOUND)

    def test_the_api_root_is_a_404_problem_pointing_to_the_docs(self, admin):
        body = assert_problem(admin.client.get(f"{API}/"), 404, problems.NOT_FOUND)
        assert "/api/v1/docs" in body["detail"]

    def test_a_wrong_method_is_a_405_problem_with_the_allowed_methods(self, world, client):
        response = client.post(
            f"{API}/customers", {}, headers={"Authorization": f"Bearer {token_for(world.users['admin'])}"}
        )
        body = assert_problem(response, 405, problems.METHOD_NOT_ALLOWED)
        assert response["Allow"] == "GET"
        assert "GET" in body["detail"]


class TestServerErrors:
    def test_an_unexpected_error_is_a_500_problem_that_hides_internals(self, world, monkeypatch, caplog):
        def broken(*args, **kwargs):
            raise RuntimeError("secret connection string postgres://root:hunter2@db")

        monkeypatch.setattr("relance.ledger.selectors.customers", broken)
        client = Client(raise_request_exception=False)
        token = token_for(world.users["admin"])
        with caplog.at_level(logging.ERROR, logger="relance.api"):
            response = client.get(f"{API}/customers", headers={"Authorization": f"Bearer {token}"})
        body = assert_problem(response, 500, problems.SERVER_ERROR)
        assert body["detail"] == problems.DETAIL_SERVER_ERROR
        assert "hunter2" not in response.content.decode()
        assert "RuntimeError" not in response.content.decode()
        assert "hunter2" in caplog.text  # the operator still gets the traceback


class TestServiceErrors:
    """Errors raised by services (relance.core.errors) map to statuses, naming the field at fault."""

    def answer(self, exc: Exception) -> dict:
        request = RequestFactory().post(f"{API}/customers/7")
        response = api.on_exception(request, exc)
        assert response["Content-Type"].startswith(problems.PROBLEM_JSON)
        import json

        body = json.loads(response.content)
        assert body["status"] == response.status_code
        assert body["instance"] == f"{API}/customers/7"
        return body

    def test_a_validation_error_is_a_422_naming_its_field(self):
        message = errors.DUE_BEFORE_ISSUE.format(due="2026-01-01", issue="2026-02-01")
        body = self.answer(errors.ValidationError(message, field="due_date"))
        assert body["status"] == 422
        assert body["detail"] == message
        assert body["errors"] == [{"loc": ["due_date"], "field": "due_date", "message": message, "code": "invalid"}]

    def test_a_validation_error_without_a_field_still_lists_its_inputs_as_empty(self):
        body = self.answer(errors.ValidationError("Nothing to import."))
        assert (body["status"], body["code"], body["errors"]) == (422, problems.VALIDATION_ERROR, [])

    def test_a_service_specific_code_is_kept(self):
        body = self.answer(errors.ValidationError("Duplicate.", field="number", code="duplicate_number"))
        assert body["code"] == "duplicate_number"
        assert body["errors"][0]["code"] == "duplicate_number"

    def test_a_permission_refusal_is_a_403(self):
        body = self.answer(errors.PermissionDenied(errors.READ_ONLY_ROLE.format(role="auditor")))
        assert (body["status"], body["code"]) == (403, problems.FORBIDDEN)
        assert body["detail"] == "The auditor role is read-only."

    def test_not_found_is_a_404(self):
        body = self.answer(errors.NotFound())
        assert (body["status"], body["code"], body["detail"]) == (404, problems.NOT_FOUND, problems.DETAIL_NOT_FOUND)

    def test_a_plain_relance_error_is_a_422(self):
        assert self.answer(errors.RelanceError("Nope."))["status"] == 422

    def test_django_http404_and_permission_denied_are_problems_too(self):
        assert self.answer(Http404("internal detail"))["detail"] == problems.DETAIL_NOT_FOUND
        assert self.answer(DjangoPermissionDenied())["status"] == 403

    def test_an_endpoint_can_refuse_items_of_a_bulk_request_one_by_one(self):
        item_errors = [
            problems.from_relance_error(
                errors.ValidationError(errors.NOT_A_NUMBER.format(value="12,5"), field="amount"),
                loc_prefix=("body", "items", 3),
            ),
            FieldError(("body", "items", 7, "currency"), errors.UNKNOWN_CURRENCY.format(value="EUROS")),
        ]
        body = self.answer(Problem(422, "2 of 10 items are invalid.", "invalid_items", item_errors))
        assert body["code"] == "invalid_items"
        assert [e["field"] for e in body["errors"]] == ["items.3.amount", "items.7.currency"]
        assert body["errors"][0]["loc"] == ["body", "items", 3, "amount"]

    def test_a_problem_without_a_code_gets_the_status_default(self):
        assert self.answer(Problem(409, "Already imported."))["title"] == "Conflict"


def test_invalid_request_names_every_field_in_the_detail():
    problem = problems.invalid_request(
        [FieldError(("query", "limit"), "too big"), FieldError(("query", "offset"), "negative")]
    )
    assert problem.status == 422
    assert problem.detail == "Invalid request: limit: too big; offset: negative."
