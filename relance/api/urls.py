"""The Relance REST API, mounted at /api/v1/ (config/urls.py): one router per domain.

OpenAPI schema at /api/v1/openapi.json, interactive docs at /api/v1/docs. Every error, including an
unknown path or a wrong method, is answered as RFC 9457 problem details (relance.api.problems).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI

from . import problems
from .auth import AUTH
from .routers import (
    analytics,
    bulk,
    collections,
    customers,
    documents,
    exports,
    lifecycle,
    me,
    payments,
    predictions,
    risk,
    webhooks,
)

DESCRIPTION = """
The receivables of the caller's scope: customers, invoices and credit notes, payments.

**Authentication**: an API token from `relance apikey create`, sent as `Authorization: Bearer <token>`;
or, from the web app, the session cookie (with the `X-CSRFToken` header on unsafe methods). The caller
sees exactly what their Relance user sees: an object outside that scope answers 404, like a missing one.

**Conventions**: ids are integers; companies and agencies are named by code; amounts are decimal
strings quantized to their currency's minor unit, next to their `currency`; dates are `YYYY-MM-DD`;
instants are ISO 8601 with a time zone. Lists are paginated with `limit` (at most 1000) and `offset`,
answer `{"items": [...], "count": N}` and are ordered by id: to synchronise, page through
`?updated_since=<the last run's start>` until `offset >= count`.

**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, `instance`,
a stable `code` to branch on, and for invalid input `errors: [{loc, field, message, code}]`.
"""


class RelanceAPI(NinjaAPI):
    """NinjaAPI whose every error, down to URL resolution, is problem details."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return problems.use_problem_media_type(schema)

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped: list[URLResolver | URLPattern] = [
            URLPattern(p.pattern, _answer_problems(p.callback, self), p.default_args, p.name)
            if isinstance(p, URLPattern)
            else p
            for p in patterns
        ]
        wrapped.append(re_path(r"^.*$", _answer_problems(_no_endpoint, self), name="no-endpoint"))
        return wrapped, app_name, namespace

    def docs_path(self) -> str:
        return f"{self.get_root_path({})}{(self.docs_url or '').lstrip('/')}"


def _no_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def _answer_problems(view: Callable[..., Any], api: RelanceAPI) -> Callable[..., Any]:
    """Turn the 404s and 405s produced outside ninja's operations into problem details."""
    if inspect.iscoroutinefunction(view):  # no async endpoints yet; they would need an async twin
        return view

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            detail = problems.DETAIL_NO_ENDPOINT.format(path=request.path, docs=api.docs_path())
            return problems.render(request, problems.Problem(404, detail, problems.NOT_FOUND))
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            detail = problems.DETAIL_METHOD_NOT_ALLOWED.format(
                method=request.method, path=request.path, allowed=allowed
            )
            problem = problems.Problem(405, detail, problems.METHOD_NOT_ALLOWED, headers={"Allow": allowed})
            return problems.render(request, problem)
        return response

    # CSRF is checked by the session authentication (relance.api.auth), not by the middleware.
    wrapper.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapper


api = RelanceAPI(
    title="Relance API",
    version="1",
    description=DESCRIPTION.strip(),
    urls_namespace="api",
    auth=AUTH,
)
problems.install(api)
api.add_router("", bulk.router)  # first: /customers/bulk before /customers/{customer_id}
api.add_router("", me.router)
api.add_router("", customers.router)
api.add_router("", documents.router)
api.add_router("", payments.router)
api.add_router("", webhooks.router)
api.add_router("", lifecycle.router)
api.add_router("", exports.router)
api.add_router("", analytics.router)
api.add_router("", predictions.router)
api.add_router("", risk.router)
api.add_router("", collections.router)
