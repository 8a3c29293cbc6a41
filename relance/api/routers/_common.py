"""Helpers shared by the routers: the rules every list endpoint follows."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema

from relance.api.pagination import PAGINATION_PARAMS
from relance.api.problems import FieldError, invalid_request
from relance.api.schemas import UNKNOWN_PARAMETER


def reject_unknown_params(request: HttpRequest, query: type[Schema]) -> None:
    """A misspelt filter (``?updated_sinse=…``) is a 422, not a silently unfiltered list."""
    accepted = set(query.model_fields) | PAGINATION_PARAMS
    unknown = sorted(set(request.GET) - accepted)
    if unknown:
        message = UNKNOWN_PARAMETER.format(accepted=", ".join(sorted(accepted)))
        raise invalid_request([FieldError(("query", name), message, "unknown_parameter") for name in unknown])


def stable(queryset: QuerySet) -> QuerySet:
    """Ordered by id: pages stay consistent while rows change (see relance.api.pagination)."""
    return queryset.order_by("pk")
