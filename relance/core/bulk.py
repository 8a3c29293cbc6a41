"""Set-based writes for large batches: one ``executemany`` per chunk, no per-row ORM objects.

Used where the ORM's per-object overhead dominates (imports of hundreds of thousands of rows).
Values are adapted once per column with the database backend's own adapters, so what is written
is exactly what the ORM would write (dates, aware timestamps, decimals, JSON). Columns whose
adapter is the identity on this backend (decimals everywhere, dates on PostgreSQL) are passed
through untouched, and only the columns that need it are adapted, value by value.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations

Adapter = Callable[[Any], Any] | None

_PROBE_DATE = dt.date(2000, 1, 1)


def _adapter(field: models.Field) -> Adapter:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        if type(ops).adapt_datefield_value is BaseDatabaseOperations.adapt_datefield_value:
            return str  # exactly what the base adapter does (SQLite): 'YYYY-MM-DD'
        return None if ops.adapt_datefield_value(_PROBE_DATE) is _PROBE_DATE else ops.adapt_datefield_value
    if isinstance(field, models.DecimalField):
        if type(ops).adapt_decimalfield_value is BaseDatabaseOperations.adapt_decimalfield_value:
            return None  # the identity: the driver takes Decimal as it is
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, cls=DjangoJSONEncoder)
    if isinstance(field, models.FileField):
        return lambda v: getattr(v, "name", v) or ""
    return None


def _params(adapters: Sequence[Adapter], rows: Iterable[Sequence[Any]], fixed: Sequence[Any] = ()) -> list[Any]:
    """The rows as parameter tuples: adapted column by column (only the columns that need it), ``fixed`` appended.

    Working on columns lets the common adapters (``str`` of a date, the backend's datetime adapter) run in
    ``map``, without a Python-level loop over every value of every row.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return []
    width = len(adapters)
    if any(n != width for n in set(map(len, rows))):
        raise ValueError(f"expected rows of {width} values")
    todo = [(i, a) for i, a in enumerate(adapters) if a is not None]
    if not todo and not fixed:
        return rows
    columns: list[Any] = list(zip(*rows, strict=True))
    for i, adapt in todo:
        column = columns[i]
        columns[i] = map(adapt, column) if None not in column else [v if v is None else adapt(v) for v in column]
    columns.extend([value] * len(rows) for value in fixed)
    return list(zip(*columns, strict=True))


class _Statement:
    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        self.model = model
        self.fields = [model._meta.get_field(name) for name in fields]
        self.adapters = [_adapter(f) for f in self.fields]

    def adapt(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(a(v) if a is not None and v is not None else v for a, v in zip(self.adapters, row, strict=True))

    def run(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        params = _params(self.adapters, rows)
        if params:
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
        return len(params)


class Inserter(_Statement):
    """``Inserter(Document, ["company", "customer", "number", ...]).insert(rows)``: rows are tuples in field order
    (foreign keys as ids). Ids are assigned by the database. On PostgreSQL the rows go through one
    ``COPY … FROM STDIN`` (psycopg 3), several times faster than an ``executemany`` of INSERTs.

    ``constants`` name trailing fields whose value is the same for every row of a call (timestamps, source):
    ``insert(rows, constants=(now, now))`` adapts them once instead of once per row.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str], constants: Sequence[str] = ()) -> None:
        super().__init__(model, [*fields, *constants])
        self.n_constants = len(constants)
        qn = connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"

    def insert(self, rows: Iterable[Sequence[Any]], constants: Sequence[Any] = ()) -> int:
        if len(constants) != self.n_constants:
            raise ValueError(f"expected {self.n_constants} constants, got {len(constants)}")
        if not self.n_constants:
            return self._write(_params(self.adapters, rows))
        split = len(self.fields) - self.n_constants
        fixed = tuple(
            a(v) if a is not None and v is not None else v
            for a, v in zip(self.adapters[split:], constants, strict=True)
        )
        return self._write(_params(self.adapters[:split], rows, fixed))

    def _write(self, params: list[Any]) -> int:
        if params:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    with cursor.cursor.copy(self.copy_sql) as copy:
                        for row in params:
                            copy.write_row(row)
                else:
                    cursor.executemany(self.sql, params)
        return len(params)


class Updater(_Statement):
    """``Updater(Document, ["open_amount", "updated_at"]).update(rows)``: rows are (values..., pk).

    On PostgreSQL the rows go by chunks through one ``UPDATE … FROM (VALUES …)`` each (an ``executemany`` of
    single-row UPDATEs costs a round of planning and executing per row there); elsewhere one ``executemany``.
    """

    PG_PARAMS = 30_000  # parameters per statement (PostgreSQL takes 65,535)

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        super().__init__(model, fields)
        qn = connection.ops.quote_name
        table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
        sets = ", ".join(f"{qn(f.column)} = %s" for f in self.fields)
        self.sql = f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608
        self.adapters.append(None)
        if connection.vendor == "postgresql":
            names = [f"v{i}" for i in range(len(self.fields) + 1)]
            self.casts = [f.db_type(connection) for f in self.fields] + [model._meta.pk.rel_db_type(connection)]
            self.pg_sets = ", ".join(f"{qn(f.column)} = v.{n}" for f, n in zip(self.fields, names, strict=False))
            self.pg_head = f"UPDATE {table} AS t SET {self.pg_sets} FROM (VALUES "  # noqa: S608
            self.pg_tail = f") AS v({', '.join(names)}) WHERE t.{pk} = v.{names[-1]}"

    def update(self, rows: Iterable[Sequence[Any]]) -> int:
        params = _params(self.adapters, rows)
        if not params:
            return 0
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql" or len({row[-1] for row in params}) != len(params):
                cursor.executemany(self.sql, params)  # (a row updated twice: in order, one statement each)
                return len(params)
            one = "(" + ", ".join(f"%s::{cast}" for cast in self.casts) + ")"
            size = max(1, self.PG_PARAMS // len(self.casts))
            for start in range(0, len(params), size):
                chunk = params[start : start + size]
                values = ", ".join([one] * len(chunk))
                cursor.execute(self.pg_head + values + self.pg_tail, [v for row in chunk for v in row])
        return len(params)
