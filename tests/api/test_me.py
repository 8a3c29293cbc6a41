"""GET /me: who the credentials act as, and how far they see."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "user_key, level, companies, agencies",
    [
        ("admin", "group", ["FR1", "UK1"], ["LYO", "PAR"]),
        ("credit_manager_uk", "companies", ["UK1"], []),
        ("collector_alice", "portfolio", ["FR1", "UK1"], ["PAR"]),
        ("collector_carol_fr", "portfolio", ["FR1"], []),
        ("agency_manager_par", "agencies", ["FR1"], ["PAR"]),
        ("agency_manager_none", "nothing", [], []),
    ],
)
def test_me_tells_the_role_and_the_reach_of_the_scope(world, api_as, user_key, level, companies, agencies):
    body = api_as(user_key).json("/me")
    user = world.users[user_key]
    assert body["id"] == user.pk
    assert body["email"] == user.email
    assert body["role"] == user.role
    assert body["scope_level"] == level
    assert body["companies"] == companies
    assert body["agencies"] == agencies


def test_me_lists_what_the_role_may_do(world, api_as):
    assert "write_ledger" not in api_as("auditor").json("/me")["permissions"]
    assert {"view", "write_ledger", "manage_users"} <= set(api_as("admin").json("/me")["permissions"])
