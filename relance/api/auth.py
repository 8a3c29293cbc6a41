"""Who is calling: an API token (``Authorization: Bearer rlk_…``) or the logged-in Django session.

Programs (ERP connectors, scripts) use tokens from ``relance apikey``; the web app uses its session,
with the CSRF token on unsafe methods. Either way the caller acts as a Relance user and sees exactly
what :mod:`relance.core.scope` allows that user: ``request.auth`` (and ``request.user``) is that user.

A request that sends a bearer token is judged on that token alone: a wrong or revoked token is a 401
even if a session cookie is also present, so that a broken integration fails loudly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from relance.orgs.models import User
from relance.orgs.services import apikey_authenticate

from .problems import CsrfFailed, InvalidToken


class TokenAuth(HttpBearer):
    """An API key sent as a bearer token."""

    openapi_description = "An API token created with `relance apikey create`, sent as `Authorization: Bearer <token>`."

    def authenticate(self, request: HttpRequest, token: str) -> User:
        user = apikey_authenticate(token.strip())
        if user is None:
            raise InvalidToken()
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The Django session of a logged-in user, with a CSRF check on unsafe methods.

    Unlike ninja's own SessionAuth, the CSRF check only runs once a session user is found, so an
    anonymous request gets a 401 (authenticate) rather than a 403 (CSRF).
    """

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "The session cookie of a user logged in to the Relance web app (CSRF token required)."

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request) is not None:
            raise CsrfFailed()
        return user


def actor(request: HttpRequest) -> User:
    """The user the request acts as (set by the authentication above)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


AUTH = [TokenAuth(), SessionAuth()]
