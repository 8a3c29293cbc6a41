"""The daily summaries: positions by cell for chosen dates, flows by cell for every day, and their freshness.

A summary is used only while the ledger is exactly as it was when the summary was computed (the *mark*: the
latest allocation id and the latest change of documents, payments, customers, disputes, promises, covers and
factoring); otherwise the selectors compute live. So a summary can be late, never wrong. The daily job
refreshes today's position and every day's flows; `relance kpi-refresh` does it on demand (and for past dates).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction

from relance.core import clock, scope
from relance.ledger.models import Allocation, Customer, Document, Payment

from . import extras, positions
from .models import DailyCustomer, DailyFlow, DailyForecast, DailyPosition, SummaryRun
from .sql import KpiFilters

POSITION, FLOW, FORECAST = "position", "flow", "forecast"


_MARK: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("relance_ledger_mark", default=None)
_FRESH: contextvars.ContextVar[dict[tuple, bool] | None] = contextvars.ContextVar("relance_fresh", default=None)


@contextlib.contextmanager
def one_mark() -> Iterator[None]:
    """Within the block (one page or API request), the ledger's fingerprint is read once, not at every check."""
    token, fresh_token = _MARK.set(_read_mark()), _FRESH.set({})
    try:
        yield
    finally:
        _MARK.reset(token)
        _FRESH.reset(fresh_token)


def ledger_mark() -> dict[str, Any]:
    """A fingerprint of everything the KPIs read (each part one indexed lookup or a small table)."""
    cached = _MARK.get()
    return cached if cached is not None else _read_mark()


def _read_mark() -> dict[str, Any]:
    """In one round trip (``SELECT (SELECT MAX(..) FROM ..), …``): the latest allocation id, the latest change of
    documents, payments and customers (indexed), and the latest change and size of the small tables the KPIs
    read (disputes, promises, insurance covers, factored documents)."""
    parts: list[tuple[str, Any, str, str]] = [
        ("allocation", Allocation, "MAX", "id"),
        ("document", Document, "MAX", "updated_at"),
        ("payment", Payment, "MAX", "updated_at"),
        ("customer", Customer, "MAX", "updated_at"),
    ]
    for label, field in (
        ("collections.Dispute", "updated_at"),
        ("collections.Promise", "updated_at"),
        ("risk.CreditInsuranceCover", "created_at"),
    ):
        model = extras.model(label)
        if model is not None:
            parts += [(f"{label}:m", model, "MAX", field), (f"{label}:n", model, "COUNT", "id")]
    factored = extras.model("risk.FactoredDocument")
    if factored is not None:  # no change stamp: count, latest id and how many were released
        parts += [
            ("risk.FactoredDocument:n", factored, "COUNT", "id"),
            ("risk.FactoredDocument:m", factored, "MAX", "id"),
            ("risk.FactoredDocument:r", factored, "COUNT", "released_on"),
        ]
    qn = connection.ops.quote_name
    columns = [
        f"(SELECT {fn}({qn(model._meta.get_field(field).column)}) FROM {qn(model._meta.db_table)})"  # noqa: S608
        for _name, model, fn, field in parts
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(columns))  # table and column names from the models' metadata only
        row = cursor.fetchone()
    return {
        name: (v.isoformat() if hasattr(v, "isoformat") else v) for (name, *_rest), v in zip(parts, row, strict=True)
    }


def fresh(kind: str, day: dt.date, mark: dict[str, Any] | None = None) -> bool:
    """Whether the summary ``kind`` for ``day`` exists and the ledger has not changed since it was computed.
    Within ``one_mark()`` the answer is remembered for the block."""
    cache = _FRESH.get()
    if cache is not None and mark is None and (kind, day) in cache:
        return cache[(kind, day)]
    run = (
        SummaryRun.objects.filter(kind=kind, date__gte=day).order_by("date").first()
        if kind == FLOW
        else (SummaryRun.objects.filter(kind=kind, date=day).first())
    )
    answer = run is not None and run.mark == (mark if mark is not None else ledger_mark())
    if cache is not None and mark is None:
        cache[(kind, day)] = answer
    return answer


def _record(kind: str, day: dt.date, mark: dict[str, Any], began: float) -> None:
    SummaryRun.objects.update_or_create(
        kind=kind, date=day, defaults={"computed_at": clock.now(), "mark": mark, "seconds": time.perf_counter() - began}
    )


@transaction.atomic
def refresh_position(day: dt.date) -> int:
    """Recompute the positions of every cell and of every customer at ``day`` from the ledger (idempotent); for
    today, also the cells' cash forecasts."""
    began, mark = time.perf_counter(), ledger_mark()
    system = scope.SystemActor("system")
    rows = positions.live_positions(system, KpiFilters(), day)
    fields = (*positions.CELL, *positions.MONEY, *positions.COUNTS)
    DailyPosition.objects.filter(date=day).delete()
    DailyPosition.objects.bulk_create([DailyPosition(date=day, **{k: r[k] for k in fields}) for r in rows], 2000)
    DailyCustomer.objects.filter(date=day).delete()
    DailyCustomer.objects.bulk_create(
        [DailyCustomer(date=day, **r) for r in positions.live_customers(system, KpiFilters(), day)], 2000
    )
    _record(POSITION, day, mark, began)
    if day == clock.today():
        from .forecast import cell_forecasts

        began = time.perf_counter()
        DailyForecast.objects.filter(date=day).delete()
        DailyForecast.objects.bulk_create(
            [
                DailyForecast(date=day, **dict(zip(positions.CELL, key, strict=True)), **row)
                for key, fc in cell_forecasts(day).items()
                for row in _forecast_rows(fc)
            ],
            2000,
        )
        _record(FORECAST, day, mark, began)
    return len(rows)


def _forecast_rows(fc: Any) -> list[dict[str, Any]]:
    rows = [{"period": "week", "index": k, "first": a, "last": b, "amount": v} for k, (a, b, v) in enumerate(fc.weeks)]
    rows += [
        {"period": "month", "index": k, "first": a, "last": b, "amount": v} for k, (a, b, v) in enumerate(fc.months)
    ]
    rows += [{"period": p, "amount": getattr(fc, p)} for p in ("later", "promised", "uncertain")]
    return rows


@transaction.atomic
def refresh_flows(last: dt.date) -> int:
    """Rebuild the daily flows of every cell, from the first day of the ledger to ``last``."""
    began, mark = time.perf_counter(), ledger_mark()
    first = Document.objects.order_by("issue_date").values_list("issue_date", flat=True).first() or last
    first_alloc = Allocation.objects.order_by("date").values_list("date", flat=True).first() or last
    rows = positions.live_flows(scope.SystemActor("system"), KpiFilters(), min(first, first_alloc), last)
    DailyFlow.objects.all().delete()
    DailyFlow.objects.bulk_create(
        [
            DailyFlow(
                date=r["day"],
                **{k: r[k] for k in (*positions.CELL, *positions.FLOW_MONEY, *positions.FLOW_WEIGHTS)},
            )
            for r in rows
        ],
        batch_size=2000,
    )
    SummaryRun.objects.filter(kind=FLOW).delete()
    _record(FLOW, last, mark, began)
    return len(rows)


def refresh(day: dt.date | None = None, *, flows: bool = True) -> dict[str, Any]:
    """Today's (or ``day``'s) positions, and the flows up to it."""
    day = day or clock.today()
    began = time.perf_counter()
    out: dict[str, Any] = {"date": day.isoformat(), "position_cells": refresh_position(day)}
    if flows:
        out["flow_rows"] = refresh_flows(max(day, clock.today()))
    _analyze()
    out["seconds"] = round(time.perf_counter() - began, 2)
    return out


def _analyze() -> None:
    """PostgreSQL: fresh statistics for the summary tables just rewritten (good plans from the first request)."""
    if connection.vendor != "postgresql":
        return
    tables = [m._meta.db_table for m in (DailyPosition, DailyFlow, DailyCustomer, DailyForecast, SummaryRun)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
