"""Limit/offset pagination: ``?limit=100&offset=200`` → ``{"items": [...], "count": N}``.

Lists are ordered by id, so that paging through a filtered set (``updated_since`` included) neither
skips nor repeats rows when rows change between two pages: an update does not move a row, and rows
created meanwhile come last. ``count`` is the total number of rows matching the filters.
"""

from __future__ import annotations

from django.conf import settings
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

DEFAULT_LIMIT: int = settings.NINJA_PAGINATION_PER_PAGE
MAX_LIMIT: int = settings.NINJA_PAGINATION_MAX_LIMIT


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(
            DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."
        )
        offset: int = Field(0, ge=0, description="Rows to skip: the number of rows already read.")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)  # type: ignore[arg-type]


PAGINATION_PARAMS = frozenset(Pagination.Input.model_fields)
