"""The OpenAPI document: every endpoint, the error shapes, the authentication schemes."""

from __future__ import annotations

import pytest

from relance.api.problems import PROBLEM_JSON
from relance.api.urls import api

from .conftest import API

ENDPOINTS = {
    "/api/v1/me": "get_me",
    "/api/v1/customers": "list_customers",
    "/api/v1/customers/{customer_id}": "get_customer",
    "/api/v1/documents": "list_documents",
    "/api/v1/documents/{document_id}": "get_document",
    "/api/v1/payments": "list_payments",
    "/api/v1/payments/{payment_id}": "get_payment",
}


@pytest.fixture
def schema(db, client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_loads_without_credentials_and_lists_every_endpoint(schema):
    assert schema["info"]["title"] == "Relance API"
    assert schema["info"]["version"] == "1"
    gets = {path: ops["get"]["operationId"] for path, ops in schema["paths"].items() if "get" in ops}
    assert ENDPOINTS.items() <= gets.items()
    assert all(op.get("operationId") for ops in schema["paths"].values() for op in ops.values())


def test_every_url_of_the_api_is_documented(schema):
    patterns, _, _ = api.urls
    routes = {
        "/api/v1/" + str(p.pattern).replace("<", "{").replace(">", "}")
        for p in patterns
        if p.name not in {"openapi-json", "openapi-view", "api-root", "no-endpoint"}
    }
    assert routes == set(schema["paths"])


def test_errors_are_documented_as_problem_details(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "422", "500"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            if "{" in path:
                assert "404" in responses, (method, path)
    validation = schema["components"]["schemas"]["ValidationProblemDetails"]
    assert {"type", "title", "status", "detail", "instance", "code", "errors"} <= set(validation["properties"])


def test_amounts_are_documented_as_decimal_strings(schema):
    amount = schema["components"]["schemas"]["DocumentOut"]["properties"]["amount"]
    assert amount["type"] == "string"
    assert amount["format"] == "decimal"


def test_both_authentication_schemes_are_declared(schema):
    schemes = schema["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_the_list_endpoints_document_their_filters_and_pagination(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/customers"]["get"]["parameters"]}
    expected = {"q", "company", "agency", "collector", "currency", "overdue", "updated_since", "limit", "offset"}
    assert params == expected


def test_the_docs_page_renders(db, client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
