"""Errors as RFC 9457 problem details: every API answer that is not a success is ``application/problem+json``.

The shape, the same for every status::

    {
      "type": "about:blank",          # no problem type beyond the HTTP status (RFC 9457 section 4.2.1)
      "title": "Unprocessable Content",  # the HTTP status phrase
      "status": 422,
      "detail": "Invalid request: updated_since: Input should be a valid datetime or date, ...",
      "instance": "/api/v1/customers?updated_since=yesterday",
      "code": "validation_error",     # stable, machine-readable: branch on this (see CODES)
      "errors": [                     # only when inputs are at fault: one entry per invalid input
        {"loc": ["query", "updated_since"], "field": "updated_since",
         "message": "Input should be a valid datetime or date, ...", "code": "datetime_from_date_parsing"}
      ]
    }

``detail`` and ``message`` are written for people; clients branch on ``status`` and ``code``.

Endpoints signal problems by raising: :class:`relance.core.errors.RelanceError` subclasses from services
(NotFound 404, PermissionDenied 403, ValidationError 422 naming its field), or :class:`Problem` for
anything else, e.g. a bulk upsert refusing some items::

    raise Problem(422, "2 of 50 items are invalid.", code="invalid_items", errors=[
        FieldError(("body", "items", 3, "amount"), "Not a decimal amount.", code="invalid"), ...])

:func:`install` registers the handlers on a NinjaAPI; :func:`responses` documents them in the OpenAPI.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core import signals
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from relance.core import errors

logger = logging.getLogger("relance.api")

PROBLEM_JSON = "application/problem+json"
BLANK = "about:blank"

# HTTP status phrases (RFC 9110); with type "about:blank" the title is the phrase (RFC 9457 section 4.2.1).
TITLES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

# Stable problem codes (the ``code`` member). Later issues add their own; never rename one.
NOT_AUTHENTICATED = "not_authenticated"
INVALID_TOKEN = "invalid_token"
CSRF_FAILED = "csrf_failed"
FORBIDDEN = "forbidden"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
CONFLICT = "conflict"
VALIDATION_ERROR = "validation_error"
BAD_REQUEST = "bad_request"
THROTTLED = "throttled"
SERVER_ERROR = "server_error"
CODES = (
    NOT_AUTHENTICATED,
    INVALID_TOKEN,
    CSRF_FAILED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    CONFLICT,
    VALIDATION_ERROR,
    BAD_REQUEST,
    THROTTLED,
    SERVER_ERROR,
)

# Messages (rule 10: constants that tests import)
DETAIL_NOT_AUTHENTICATED = (
    "Authentication required: send an API token as 'Authorization: Bearer <token>', or log in to Relance."
)
DETAIL_INVALID_TOKEN = "The API token is invalid or has been revoked: ask an administrator for a new one."
DETAIL_CSRF_FAILED = (
    "CSRF check failed: with a browser session, send the CSRF token in the X-CSRFToken header; "
    "programs should use an API token instead."
)
DETAIL_FORBIDDEN = "You are not allowed to do this."
DETAIL_NOT_FOUND = "Not found."
DETAIL_NO_ENDPOINT = "There is no endpoint at {path}: the list of endpoints is at {docs}."
DETAIL_METHOD_NOT_ALLOWED = "{method} is not allowed on {path}; allowed: {allowed}."
DETAIL_INVALID_REQUEST = "Invalid request: {problems}."
DETAIL_SERVER_ERROR = (
    "An unexpected error occurred; it has been logged. Retry later, and if it persists "
    "contact your Relance administrator with the time of the request."
)
DETAIL_THROTTLED = "Too many requests: retry after the delay given in the Retry-After header."

# pydantic prefixes messages of plain ValueErrors raised in validators; the prefix tells the user nothing.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")

# Where ninja says a request value came from; the first item of ``loc`` when present.
SOURCES = frozenset({"query", "path", "body", "header", "cookie", "form", "file"})


# --- the shape, for the OpenAPI ---------------------------------------------------------


class InvalidInput(Schema):
    """One invalid input: where it is, and what is wrong with it."""

    loc: list[str | int]
    field: str
    message: str
    code: str


class ProblemDetails(Schema):
    """RFC 9457 problem details (served as application/problem+json)."""

    type: str = BLANK
    title: str
    status: int
    detail: str
    instance: str
    code: str


class ValidationProblemDetails(ProblemDetails):
    """Problem details of an invalid request, with one entry per invalid input."""

    errors: list[InvalidInput]


# --- building problems ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    """One invalid input. ``loc`` is the path to it: ("query", "limit"), ("body", "items", 3, "amount")."""

    loc: tuple[str | int, ...]
    message: str
    code: str = "invalid"

    @property
    def field(self) -> str:
        """The input's name as a user writes it: the location without its source, dotted."""
        parts = self.loc[1:] if len(self.loc) > 1 and self.loc[0] in SOURCES else self.loc
        return ".".join(str(p) for p in parts)

    def as_json(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "field": self.field, "message": self.message, "code": self.code}


@dataclass(eq=False)
class Problem(Exception):
    """Raise from an endpoint to answer with problem details (any status, optional per-input errors)."""

    status: int
    detail: str
    code: str = ""
    errors: Sequence[FieldError] = ()
    title: str = ""
    type: str = BLANK
    headers: dict[str, str] = dataclass_field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)
        if not self.code:
            self.code = _default_code(self.status)


def _default_code(status: int) -> str:
    return {
        400: BAD_REQUEST,
        401: NOT_AUTHENTICATED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        405: METHOD_NOT_ALLOWED,
        409: CONFLICT,
        422: VALIDATION_ERROR,
        429: THROTTLED,
    }.get(status, SERVER_ERROR if status >= 500 else "error")


def problem_body(request: HttpRequest, problem: Problem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title or TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.get_full_path(),
        "code": problem.code,
    }
    if problem.errors or problem.status == 422:  # a 422 always lists its invalid inputs, maybe none
        body["errors"] = [e.as_json() for e in problem.errors]
    return body


def render(request: HttpRequest, problem: Problem) -> HttpResponse:
    """The HTTP response for a problem."""
    content = json.dumps(problem_body(request, problem), cls=DjangoJSONEncoder, ensure_ascii=False)
    response = HttpResponse(content, status=problem.status, content_type=f"{PROBLEM_JSON}; charset=utf-8")
    for name, value in problem.headers.items():
        response[name] = value
    _rollback_if_atomic_request()
    return response


def _rollback_if_atomic_request() -> None:
    """With ATOMIC_REQUESTS, an answered error must still undo the request's writes (as DRF does)."""
    for conn in connections.all(initialized_only=True):
        if conn.settings_dict.get("ATOMIC_REQUESTS") and conn.in_atomic_block:
            transaction.set_rollback(True, using=conn.alias)


def clean_message(message: str) -> str:
    for prefix in _PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def field_errors_from_ninja(raw: Iterable[Any]) -> list[FieldError]:
    """ninja's validation errors (pydantic's dicts with a source-prefixed ``loc``) as FieldErrors."""
    out: list[FieldError] = []
    for item in raw:
        if isinstance(item, dict) and "loc" in item:
            loc = tuple(p if isinstance(p, int) else str(p) for p in item["loc"])
            out.append(FieldError(loc, clean_message(str(item.get("msg", "Invalid value."))), str(item.get("type"))))
        elif isinstance(item, dict):  # e.g. CursorPagination's {"cursor": "Invalid Cursor"}
            out.extend(FieldError(("query", str(k)), str(v)) for k, v in item.items())
        else:
            out.append(FieldError((), str(item)))
    return out


def invalid_request(errors_: Sequence[FieldError], *, code: str = VALIDATION_ERROR) -> Problem:
    """A 422 naming every invalid input in ``detail`` and listing them in ``errors``."""
    problems = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors_)
    return Problem(422, DETAIL_INVALID_REQUEST.format(problems=problems or "invalid input"), code, errors_)


def from_relance_error(exc: errors.RelanceError, *, loc_prefix: tuple[str | int, ...] = ()) -> FieldError:
    """A service's refusal as one FieldError, e.g. for item 3 of a bulk upsert: loc_prefix=("body", "items", 3)."""
    loc = (*loc_prefix, exc.field) if exc.field else loc_prefix
    return FieldError(loc, exc.message, exc.code)


# Status of each RelanceError subclass (most specific class first in the MRO wins).
RELANCE_STATUS: dict[type[errors.RelanceError], int] = {
    errors.NotFound: 404,
    errors.PermissionDenied: 403,
    errors.ValidationError: 422,
    errors.RelanceError: 422,
}


def status_of(exc: errors.RelanceError) -> int:
    for cls in type(exc).__mro__:
        if cls in RELANCE_STATUS:
            return RELANCE_STATUS[cls]
    return 422


# --- exception handlers -----------------------------------------------------------------


class InvalidToken(AuthenticationError):
    """Credentials were sent but are not valid: answered 401 without trying other authentication."""

    def __init__(self) -> None:
        super().__init__(401, DETAIL_INVALID_TOKEN)


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(403, DETAIL_CSRF_FAILED)


def www_authenticate(error: str | None = None) -> str:
    value = 'Bearer realm="Relance API"'
    return f'{value}, error="{error}"' if error else value


def _on_problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return render(request, exc)


def _on_relance_error(request: HttpRequest, exc: errors.RelanceError) -> HttpResponse:
    status = status_of(exc)
    field_errors = [from_relance_error(exc)] if exc.field else []
    # A service's own code (e.g. "duplicate_number") is kept; the generic ones take the API's names.
    code = {404: NOT_FOUND, 403: FORBIDDEN}.get(status) or (VALIDATION_ERROR if exc.code == "invalid" else exc.code)
    return render(request, Problem(status, exc.message, code, field_errors))


def _on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return render(request, invalid_request(field_errors_from_ninja(exc.errors)))


def _on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    if isinstance(exc, InvalidToken):
        challenge = {"WWW-Authenticate": www_authenticate("invalid_token")}
        return render(request, Problem(401, DETAIL_INVALID_TOKEN, INVALID_TOKEN, headers=challenge))
    challenge = {"WWW-Authenticate": www_authenticate()}
    return render(request, Problem(401, DETAIL_NOT_AUTHENTICATED, NOT_AUTHENTICATED, headers=challenge))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, CsrfFailed):
        return render(request, Problem(403, DETAIL_CSRF_FAILED, CSRF_FAILED))
    if isinstance(exc, Throttled):  # ninja sets Retry-After on the response afterwards
        return render(request, Problem(429, DETAIL_THROTTLED, THROTTLED))
    return render(request, Problem(exc.status_code, exc.message))


def _on_http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return render(request, Problem(404, DETAIL_NOT_FOUND, NOT_FOUND))


def _on_django_permission_denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
    return render(request, Problem(403, DETAIL_FORBIDDEN, FORBIDDEN))


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug or an outage: logged with its traceback, answered without internals."""
    logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=exc)
    # As Django does for unhandled exceptions: error trackers and the test client listen to this.
    signals.got_request_exception.send(sender=None, request=request)
    return render(request, Problem(500, DETAIL_SERVER_ERROR, SERVER_ERROR))


def install(api: NinjaAPI) -> None:
    """Answer every error of ``api`` with problem details."""
    api.add_exception_handler(Problem, _on_problem)
    api.add_exception_handler(errors.RelanceError, _on_relance_error)
    api.add_exception_handler(NinjaValidationError, _on_validation_error)
    api.add_exception_handler(AuthenticationError, _on_authentication_error)
    api.add_exception_handler(HttpError, _on_http_error)
    api.add_exception_handler(Http404, _on_http404)
    api.add_exception_handler(DjangoPermissionDenied, _on_django_permission_denied)
    api.add_exception_handler(Exception, _on_unexpected)


# --- OpenAPI ------------------------------------------------------------------------------

COMMON_STATUSES = (401, 422, 500)


def responses(*statuses: int) -> dict[int, type[ProblemDetails]]:
    """Problem responses to merge into an operation's ``response=``: the common ones plus ``statuses``."""
    out: dict[int, type[ProblemDetails]] = {}
    for status in sorted({*COMMON_STATUSES, *statuses}):
        out[status] = ValidationProblemDetails if status == 422 else ProblemDetails
    return out


def use_problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare error responses (4xx, 5xx) as application/problem+json in an OpenAPI document."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content") if isinstance(response, dict) else None
                if str(status)[:1] in {"4", "5"} and content and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
                    response["description"] = TITLES.get(int(status), response.get("description") or "Error")
    return schema
