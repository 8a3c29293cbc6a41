"""What a user may see and do: the one place where permission rules live.

Every page, API endpoint, export, CLI command acting for a user and task goes through
:func:`restrict` (reads) and :func:`require` (actions). Nothing else filters by user.

Scope rules (docs/roles.md):

* inactive user, or no role: nothing.
* superuser: the whole group.
* ``collector``: the customers whose collector they are; ``sales_rep``: the customers whose
  sales rep they are. Their portfolio is further narrowed to their companies / agencies if any are set.
* ``agency_manager``: the customers of their agencies (nothing without an agency).
* ``admin``, ``credit_manager``, ``auditor``: their agencies if any are set, else their
  companies if any are set, else the whole group.

Objects reached through a customer (documents, payments, allocations, contacts, disputes,
audit rows) follow the customer. Payments not yet tied to a customer (unidentified cash)
and company-level records are visible to users whose scope is the group or whole companies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet

from relance.core import errors
from relance.core.vocab import Role

GROUP = "group"
COMPANIES = "companies"
AGENCIES = "agencies"
PORTFOLIO = "portfolio"
NOTHING = "nothing"

READ_ONLY_ROLES = frozenset({Role.AUDITOR})

# Actions and the roles allowed to perform them (within their scope).
ACTIONS: dict[str, frozenset[str]] = {
    "view": frozenset(Role.values),
    "export": frozenset(Role.values),
    "edit_customer": frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.COLLECTOR, Role.AGENCY_MANAGER}),
    "write_ledger": frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.COLLECTOR}),
    "allocate": frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.COLLECTOR}),
    "grant_credit_limit": frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    "import": frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    "manage_webhooks": frozenset({Role.ADMIN, Role.CREDIT_MANAGER}),
    "manage_reference_data": frozenset({Role.ADMIN}),
    "manage_users": frozenset({Role.ADMIN}),
}


@dataclass(frozen=True)
class Scope:
    """A user's visibility, resolved once per request."""

    level: str
    company_ids: frozenset[int] = frozenset()
    agency_ids: frozenset[int] = frozenset()
    portfolio_field: str | None = None  # "collector" or "sales_rep"
    user_id: int | None = None

    def customer_q(self, prefix: str = "") -> Q:
        """A Q over Customer (or any model, through ``prefix`` such as ``customer__``)."""
        if self.level == NOTHING:
            return Q(pk__in=[])
        q = Q()
        if self.level == PORTFOLIO:
            q &= Q(**{f"{prefix}{self.portfolio_field}_id": self.user_id})
        if self.agency_ids:
            q &= Q(**{f"{prefix}agency_id__in": sorted(self.agency_ids)})
        elif self.company_ids:
            q &= Q(**{f"{prefix}company_id__in": sorted(self.company_ids)})
        return q

    @property
    def sees_company_level(self) -> bool:
        """Whether company-level records (unidentified cash, company settings) are visible."""
        return self.level in (GROUP, COMPANIES)

    def company_q(self, field: str = "company_id") -> Q:
        if self.level == GROUP:
            return Q()
        if self.level == COMPANIES:
            return Q(**{f"{field}__in": sorted(self.company_ids)})
        return Q(pk__in=[])


class SystemActor:
    """The operator at the command line or the scheduler: sees the whole group (no user to scope by)."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    pk = None
    role = Role.ADMIN

    def __init__(self, label: str = "cli") -> None:
        self.label = label

    def __str__(self) -> str:
        return self.label


def scope_of(user: Any) -> Scope:
    """Resolve what ``user`` may see. The only place the rules above are written."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(NOTHING)
    if user.is_superuser:
        return Scope(GROUP, user_id=user.pk)
    cached = getattr(user, "_relance_scope", None)
    if cached is not None:
        return cached
    company_ids = frozenset(user.companies.values_list("pk", flat=True))
    agency_ids = frozenset(user.agencies.values_list("pk", flat=True))
    role = user.role
    if role in (Role.COLLECTOR, Role.SALES_REP):
        field = "collector" if role == Role.COLLECTOR else "sales_rep"
        scope = Scope(PORTFOLIO, company_ids, agency_ids, portfolio_field=field, user_id=user.pk)
    elif role == Role.AGENCY_MANAGER:
        scope = Scope(AGENCIES, agency_ids=agency_ids, user_id=user.pk) if agency_ids else Scope(NOTHING)
    elif role in (Role.ADMIN, Role.CREDIT_MANAGER, Role.AUDITOR):
        if agency_ids:
            scope = Scope(AGENCIES, agency_ids=agency_ids, user_id=user.pk)
        elif company_ids:
            scope = Scope(COMPANIES, company_ids=company_ids, user_id=user.pk)
        else:
            scope = Scope(GROUP, user_id=user.pk)
    else:
        scope = Scope(NOTHING)
    user._relance_scope = scope
    return scope


def forget(user: Any) -> None:
    """Drop the cached scope (after the user's assignments changed)."""
    if hasattr(user, "_relance_scope"):
        del user._relance_scope


# How each model reaches the customer it belongs to ("" for Customer itself).
# company_path: models that may exist without a customer (visible at company level).
_PATHS: dict[str, tuple[str | None, str | None]] = {
    "ledger.customer": ("", None),
    "ledger.contact": ("customer__", None),
    "ledger.document": ("customer__", None),
    "ledger.allocation": ("customer__", None),
    "ledger.payment": ("customer__", "company_id"),
    "collections.dispute": ("customer__", None),
    "core.auditentry": (None, "company_id"),
    "orgs.company": (None, "id"),
    "orgs.agency": (None, "company_id"),
    "ledger.legalentity": ("accounts__", None),
}


def register(label: str, customer_prefix: str | None, company_field: str | None = None) -> None:
    """Later apps declare how their models reach a customer (or a company)."""
    _PATHS[label] = (customer_prefix, company_field)


def restrict(user: Any, queryset: QuerySet) -> QuerySet:
    """``queryset`` narrowed to what ``user`` may see. Every read goes through here."""
    label = queryset.model._meta.label_lower
    if label not in _PATHS:
        raise LookupError(f"No scope rule for {label}: register one in relance.core.scope")
    scope = scope_of(user)
    if scope.level == NOTHING:
        return queryset.none()
    customer_prefix, company_field = _PATHS[label]
    if label == "core.auditentry":
        return _restrict_audit(scope, queryset)
    if label == "orgs.agency" and scope.level == AGENCIES:
        return queryset.filter(pk__in=sorted(scope.agency_ids))
    if label == "orgs.agency" and scope.level == PORTFOLIO:
        return queryset.filter(customers__in=_customer_ids(scope)).distinct()
    if label == "orgs.company" and scope.level in (AGENCIES, PORTFOLIO):
        return queryset.filter(customers__in=_customer_ids(scope)).distinct()
    if scope.level == GROUP:
        return queryset
    q = Q()
    if customer_prefix is not None:
        q = scope.customer_q(customer_prefix)
        if company_field and scope.sees_company_level:
            q |= Q(**{f"{customer_prefix.removesuffix('__')}__isnull": True}) & scope.company_q(company_field)
    elif company_field:
        q = scope.company_q(company_field)
    queryset = queryset.filter(q)
    if customer_prefix == "accounts__":  # a reverse relation: one row per visible account
        queryset = queryset.distinct()
    return queryset


def _customer_ids(scope: Scope) -> QuerySet:
    from relance.ledger.models import Customer

    return Customer.objects.filter(scope.customer_q()).values("pk")


def _restrict_audit(scope: Scope, queryset: QuerySet) -> QuerySet:
    if scope.level == GROUP:
        return queryset
    q = Q(customer_id__in=_customer_ids(scope))
    if scope.sees_company_level:
        q |= Q(customer_id__isnull=True) & scope.company_q("company_id")
    return queryset.filter(q)


def get_visible(user: Any, queryset: QuerySet, **lookup: Any) -> Model:
    """One object within scope, else NotFound: an id outside the scope looks exactly like a missing one."""
    try:
        return restrict(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise errors.NotFound()


def can(user: Any, action: str) -> bool:
    """Whether the user's role allows ``action`` (the object must also be within scope)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if action not in ACTIONS:
        raise LookupError(f"Unknown action {action!r}")
    return user.role in ACTIONS[action]


def require(user: Any, action: str, obj: Model | None = None) -> None:
    """Raise PermissionDenied unless the role allows ``action`` and ``obj`` is within scope."""
    if not can(user, action):
        role = getattr(user, "role", "anonymous")
        if role in READ_ONLY_ROLES:
            raise errors.PermissionDenied(errors.READ_ONLY_ROLE.format(role=role))
        raise errors.PermissionDenied()
    if obj is not None and not restrict(user, type(obj)._default_manager.filter(pk=obj.pk)).exists():
        raise errors.NotFound()
