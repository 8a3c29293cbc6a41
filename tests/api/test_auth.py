"""Who may call the API: a valid API token, or a logged-in session (with CSRF on unsafe methods)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import RequestFactory

from relance.api.auth import SessionAuth, TokenAuth
from relance.api.problems import (
    DETAIL_INVALID_TOKEN,
    DETAIL_NOT_AUTHENTICATED,
    INVALID_TOKEN,
    NOT_AUTHENTICATED,
    CsrfFailed,
    InvalidToken,
)
from relance.orgs.models import ApiKey
from relance.orgs.services import apikey_revoke

from .conftest import API, ApiClient, assert_problem, customer_keys, token_for


def test_without_credentials_the_api_answers_401_problem_with_a_bearer_challenge(world, anonymous):
    response = anonymous.get("/customers")
    body = assert_problem(response, 401, NOT_AUTHENTICATED)
    assert body["detail"] == DETAIL_NOT_AUTHENTICATED
    assert body["instance"] == f"{API}/customers"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer rlk_not-a-real-token",
        "Bearer not-even-our-prefix",
        "Bearer ",
        "bearer rlk_lowercase-scheme-still-checked",
    ],
)
def test_a_bad_token_answers_401_invalid_token(world, client, header):
    response = client.get(f"{API}/customers", headers={"Authorization": header})
    body = assert_problem(response, 401, INVALID_TOKEN)
    assert body["detail"] == DETAIL_INVALID_TOKEN
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_another_authorization_scheme_is_not_accepted(world, client):
    response = client.get(f"{API}/customers", headers={"Authorization": "Basic YWRtaW46c2VjcmV0"})
    assert_problem(response, 401, NOT_AUTHENTICATED)


def test_a_valid_token_acts_as_its_user_and_records_its_use(world, client):
    token = token_for(world.users["collector_bob"])
    items = ApiClient(client, token).items("/customers")
    assert customer_keys(world, items) == {"c_lyo_bob"}
    assert ApiKey.objects.get(user=world.users["collector_bob"]).last_used_at is not None


def test_a_revoked_token_answers_401(world, client):
    api = ApiClient(client, token_for(world.users["admin"]))
    assert api.get("/me").status_code == 200
    apikey_revoke(actor="test", prefix=api.token[:12])
    assert_problem(api.get("/me"), 401, INVALID_TOKEN)


def test_the_token_of_a_deactivated_user_answers_401(world, client):
    api = ApiClient(client, token_for(world.users["admin"]))
    world.users["admin"].is_active = False
    world.users["admin"].save()
    assert_problem(api.get("/customers"), 401, INVALID_TOKEN)


def test_a_logged_in_session_can_call_the_api(world, client):
    client.force_login(world.users["sales_rep_sam"])
    response = client.get(f"{API}/customers")
    assert response.status_code == 200
    assert customer_keys(world, response.json()["items"]) == world.visible_to("sales_rep_sam")
    assert client.get(f"{API}/me").json()["email"] == "sam@example.com"


def test_a_bad_token_is_refused_even_with_a_valid_session(world, client):
    client.force_login(world.users["admin"])
    response = client.get(f"{API}/customers", headers={"Authorization": "Bearer rlk_wrong"})
    assert_problem(response, 401, INVALID_TOKEN)


def test_a_token_wins_over_the_session(world, client):
    client.force_login(world.users["admin"])
    api = ApiClient(client, token_for(world.users["collector_bob"]))
    assert api.json("/me")["email"] == "bob@example.com"


class TestSessionCsrf:
    """No API endpoint writes yet, so the session check is exercised directly on a request."""

    def post(self, user, *, csrf: bool):
        secret = _get_new_csrf_string()
        headers = {"X-CSRFToken": _mask_cipher_secret(secret)} if csrf else {}
        request = RequestFactory().post(f"{API}/anything", headers=headers)
        if csrf:
            request.COOKIES[settings.CSRF_COOKIE_NAME] = secret
        request.COOKIES[settings.SESSION_COOKIE_NAME] = "session-key"
        request.user = user
        return request

    def test_an_unsafe_method_without_the_csrf_token_is_refused(self, world):
        with pytest.raises(CsrfFailed):
            SessionAuth()(self.post(world.users["admin"], csrf=False))

    def test_an_unsafe_method_with_the_csrf_token_is_accepted(self, world):
        user = world.users["admin"]
        assert SessionAuth()(self.post(user, csrf=True)) == user

    def test_an_anonymous_request_is_not_a_csrf_failure_but_unauthenticated(self, world):
        from django.contrib.auth.models import AnonymousUser

        assert SessionAuth()(self.post(AnonymousUser(), csrf=False)) is None

    def test_a_safe_method_needs_no_csrf_token(self, world):
        request = RequestFactory().get(f"{API}/customers")
        request.user = world.users["admin"]
        assert SessionAuth()(request) == world.users["admin"]


def test_token_auth_rejects_an_unknown_token_loudly(world):
    request = RequestFactory().get(f"{API}/customers", headers={"Authorization": "Bearer rlk_nope"})
    with pytest.raises(InvalidToken):
        TokenAuth()(request)
