"""Writing the audit trail: one row per change, with the acting user, inside the service's transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

from . import clock
from .models import AuditEntry

SYSTEM = "system"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        # one spelling per value: 100.000 read back from the database equals 100.00 typed in
        cents = value.quantize(Decimal("0.01"))
        return str(cents if cents == value else value.normalize())
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Field values of ``obj`` (concrete fields, FKs as ids), JSON-ready."""
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in {"created_at", "updated_at"}:
            continue
        out[field.name] = _jsonable(getattr(obj, field.attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def actor_label(actor: Any) -> str:
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    if getattr(actor, "pk", None) is None and hasattr(actor, "label"):
        return actor.label
    return getattr(actor, "email", None) or str(actor)


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    message: str = "",
    customer_id: int | None = None,
    company_id: int | None = None,
) -> AuditEntry:
    """Append one audit row. ``actor`` is a User, a label such as 'cli', or None for the system."""
    user = actor if getattr(actor, "pk", None) is not None and hasattr(actor, "email") else None
    if customer_id is None:
        customer_id = getattr(obj, "customer_id", None)
        if obj._meta.model_name == "customer":
            customer_id = obj.pk
    if company_id is None:
        company_id = getattr(obj, "company_id", None)
        if obj._meta.model_name == "company":
            company_id = obj.pk
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=user,
        actor_label=actor_label(actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        customer_id=customer_id,
        company_id=company_id,
        changes=changes or {},
        message=message,
    )
