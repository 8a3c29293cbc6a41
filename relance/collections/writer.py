"""Set-based writes of the cycle: intents, tasks and levels in plain ``executemany`` (the ORM's per-object
``bulk_create`` costs more than deciding). Values are adapted by the backend's own operations, so the rows are
exactly what the ORM would write, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from relance.core import clock

ACTION_COLUMNS = (
    "company_id", "customer_id", "currency", "run_date", "key", "reference", "scenario", "rulebook_version", "step",
    "step_day", "channel", "tone", "template", "document_ids", "numbers", "amount", "status", "recipient",
    "message_id", "error", "file", "created_at",
)  # fmt: skip
TASK_COLUMNS = (
    "company_id", "customer_id", "kind", "title", "due_on", "assignee_id", "status", "action_id", "data", "created_at",
)  # fmt: skip
CHUNK = 500


@dataclass(frozen=True)
class Recorded:
    pk: int
    status: str
    channel: str
    reference: str
    customer_id: int


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _insert(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    names, marks = ", ".join(_q(c) for c in columns), ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {_q(table)} ({names}) VALUES ({marks})"  # noqa: S608 - names from the code, values bound
    with connection.cursor() as cur:
        cur.executemany(sql, rows)


def _dates() -> Any:
    """A memoised date adapter (the cycle writes one date over and over)."""
    ops = connection.ops
    seen: dict[dt.date, Any] = {}

    def adapt(value: dt.date) -> Any:
        if value not in seen:
            seen[value] = ops.adapt_datefield_value(value)
        return seen[value]

    return adapt


def _decimal(value: Decimal, ops: Any) -> Any:
    return ops.adapt_decimalfield_value(value, 18, 3)


def actions(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert the intents; returns their ids by key."""
    now = connection.ops.adapt_datetimefield_value(clock.now())
    _date = _dates()
    ops = connection.ops
    _insert(
        "collections_dunningaction",
        ACTION_COLUMNS,
        [
            (r["company_id"], r["customer_id"], r["currency"], _date(r["run_date"]), r["key"], r["reference"],
             r["scenario"], r["rulebook_version"], r["step"], r["step_day"], r["channel"], r["tone"], r["template"],
             json.dumps(r["document_ids"]), json.dumps(r["numbers"], ensure_ascii=False), _decimal(r["amount"], ops),
             r["status"], "", "", "", "", now)
            for r in rows
        ],
    )  # fmt: skip
    ids: dict[str, int] = {}
    keys = [r["key"] for r in rows]
    with connection.cursor() as cur:
        for start in range(0, len(keys), CHUNK):
            part = keys[start : start + CHUNK]
            cur.execute(
                f"SELECT {_q('key')}, id FROM {_q('collections_dunningaction')} "  # noqa: S608
                f"WHERE {_q('key')} IN ({', '.join(['%s'] * len(part))})",
                part,
            )
            ids.update(dict(cur.fetchall()))
    return ids


def tasks(rows: list[dict[str, Any]]) -> None:
    now = connection.ops.adapt_datetimefield_value(clock.now())
    _date = _dates()
    _insert(
        "collections_task",
        TASK_COLUMNS,
        [
            (r["company_id"], r["customer_id"], r["kind"], r["title"], _date(r["due_on"]), r["assignee_id"], "open",
             r["action_id"], json.dumps(r["data"]), now)
            for r in rows
        ],
    )  # fmt: skip


def levels(rows: list[tuple[int, int, int, str, int, dt.date]]) -> None:
    """(document, customer, level, step, action, day): insert or update each document's level."""
    if not rows:
        return
    sql = (
        f"INSERT INTO {_q('collections_dunningstate')} "  # noqa: S608 - table name from the model, values bound
        "(document_id, customer_id, level, step, action_id, updated_on) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (document_id) DO UPDATE SET level = excluded.level, "
        "step = excluded.step, action_id = excluded.action_id, updated_on = excluded.updated_on"
    )
    _date = _dates()
    with connection.cursor() as cur:
        cur.executemany(sql, [(d, c, lv, s, a, _date(day)) for d, c, lv, s, a, day in rows])
