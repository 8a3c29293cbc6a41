"""Helpers shared by the staff views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from relance.collections.models import Dispute, DisputeReason
from relance.core import errors
from relance.core.vocab import Role

PER_PAGE = 50
T = TypeVar("T")


def visible_or_404(fetch: Callable[..., T], user: Any, pk: Any) -> T:
    """One object through a scoped selector; out of scope and unknown both give 404 (they must look alike)."""
    try:
        return fetch(user, pk)
    except errors.NotFound:
        raise Http404()


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PER_PAGE) -> Page:
    """The requested page (``?page=``); a page number out of range gives the last page, garbage the first."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# Home page layouts by role (the superuser sees the group, like an administrator).
MANAGER_ROLES = frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.AUDITOR})


def home_layout(user: Any) -> str:
    """Which home page the user gets: ``collector``, ``portfolio`` (sales rep, agency manager) or ``manager``."""
    if user.is_superuser or user.role in MANAGER_ROLES:
        return "manager"
    if user.role == Role.COLLECTOR:
        return "collector"
    return "portfolio"


def label_disputes(disputes: Iterable[Dispute]) -> list[Dispute]:
    """Disputes with ``reason_label``: the reason's translated label (or the stored code if unknown)."""
    out = list(disputes)
    labels = dict(DisputeReason.choices)
    for dispute in out:
        dispute.reason_label = labels.get(dispute.reason, dispute.reason)
    return out


def form_date(value: str, field: str) -> dt.date | None:
    """An optional date typed in a form (YYYY-MM-DD): None when blank, else the date or an error naming the field."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise errors.ValidationError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}, field=field)
