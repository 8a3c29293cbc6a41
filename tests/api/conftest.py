"""API test helpers: a client per world user, authenticated with a real API token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from relance.api.problems import PROBLEM_JSON
from relance.orgs.services import apikey_create

API = "/api/v1"


@dataclass
class ApiClient:
    """Calls /api/v1 as one user (bearer token), or anonymously (token None)."""

    client: Client
    token: str | None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(API + path, params or {}, headers=self.headers())

    def json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET expecting a 200, returning the decoded body."""
        response = self.get(path, params)
        assert response.status_code == 200, response.content
        return response.json()

    def items(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a paginated list (all pages)."""
        out: list[dict[str, Any]] = []
        query = {**(params or {}), "limit": 1000, "offset": 0}
        while True:
            page = self.json(path, query)
            out.extend(page["items"])
            query["offset"] += len(page["items"])
            if not page["items"] or query["offset"] >= page["count"]:
                return out


def token_for(user: Any) -> str:
    return apikey_create(actor="test", email=user.email, label="tests")[1]


@pytest.fixture
def api_as(world, client) -> Callable[[str], ApiClient]:
    """``api_as("collector_alice")``: an ApiClient acting as that world user, through a fresh API token."""

    def make(user_key: str) -> ApiClient:
        return ApiClient(client, token_for(world.users[user_key]))

    return make


@pytest.fixture
def anonymous(client) -> ApiClient:
    return ApiClient(client, None)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is RFC 9457 problem details with this status (and code); returns the body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", "instance", "code"} <= set(body)
    assert body["type"] == "about:blank"
    assert body["detail"]
    if code is not None:
        assert body["code"] == code
    return body


def customer_keys(world, items: list[dict[str, Any]]) -> set[str]:
    by_id = {c.pk: key for key, c in world.customers.items()}
    return {by_id[item["id"]] for item in items}
