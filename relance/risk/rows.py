"""Plain ``executemany`` inserts and updates for the rescoring's many rows (Django's bulk_create and bulk_update
cost more per value than the scoring itself at 100,000 customers). Values are converted by field type here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, models

ROUND = 5000


class Json(str):
    """A JSON value already serialised (written as it is)."""


def _convert(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Json):
        return str(value)
    if isinstance(field, models.JSONField):
        return json.dumps(value, default=str)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _placeholder(field: models.Field) -> str:
    if isinstance(field, models.JSONField) and connection.vendor == "postgresql":
        return "%s::jsonb"
    return "%s"


def insert(model: type[models.Model], names: Sequence[str], objs: Sequence[dict[str, Any]]) -> None:
    """INSERT rows given as ``{attname: value}`` (no primary keys come back)."""
    if not objs:
        return
    fields = [model._meta.get_field(n) for n in names]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(_placeholder(f) for f in fields)})"
    )
    with connection.cursor() as cur:
        for i in range(0, len(objs), ROUND):
            cur.executemany(sql, [[_convert(f, o[f.attname]) for f in fields] for o in objs[i : i + ROUND]])


def update(model: type[models.Model], names: Sequence[str], objs: Sequence[dict[str, Any]]) -> None:
    """UPDATE rows given as ``{attname: value, "id": pk}`` by primary key, one statement executed many times."""
    if not objs:
        return
    fields = [model._meta.get_field(n) for n in names]
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(f.column)} = {_placeholder(f)}" for f in fields)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s"  # noqa: S608
    with connection.cursor() as cur:
        for i in range(0, len(objs), ROUND):
            cur.executemany(sql, [[*(_convert(f, o[f.attname]) for f in fields), o["id"]] for o in objs[i : i + ROUND]])
