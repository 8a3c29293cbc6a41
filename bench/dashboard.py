"""``dashboard``: server time of the group dashboard (home page of the credit manager) on the demo ledger.

Target (issue 7, "Speed"): 1,000,000 documents; under 500 ms for today and under 2 s for a past date, on SQLite
and PostgreSQL. The demo is generated, the daily job runs (customer delays, today's positions, every day's
flows), the position of a past month end is stored (as `relance kpi-refresh --month-ends N` does), then the
page is requested through Django's test client (full request: middleware, queries, template) several times;
the median is reported. Also measured: a past date that is not stored (computed live from the ledger), a
collector's page, `relance kpi`'s selector with and without the summaries, and the refreshes. Baseline: one
plain SQL aggregate over the open documents (``SELECT currency, SUM(open_amount) … WHERE open_amount > 0
GROUP BY currency``) in the same run.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from typing import Any

from .registry import Benchmark, Context, Param, register

AS_OF = dt.date(2026, 6, 30)
PAST = dt.date(2026, 3, 31)  # a stored month end
PAST_LIVE = dt.date(2026, 4, 15)  # not stored: computed from the ledger
TARGET_DOCUMENTS = 1_000_000
TARGET_TODAY_MS, TARGET_PAST_MS = 500.0, 2000.0


def _median_ms(fn: Any, repeat: int) -> float:
    fn()  # warm-up (connection, template loading, page cache of the database)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 1)


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from relance.analytics import selectors, services, summaries
    from relance.core import clock
    from relance.core.scope import SystemActor
    from relance.demo.generator import Options, generate
    from relance.ledger.models import Document
    from relance.orgs.models import User

    clock.freeze(AS_OF)
    summary = generate(
        Options(customers=params["customers"], invoices=params["invoices"], seed=params["seed"], as_of=AS_OF),
        progress=ctx.progress,
    )
    documents = Document.objects.count()
    began = time.perf_counter()
    services.behaviour_refresh(actor=SystemActor("bench"), as_of=AS_OF)
    summaries.refresh(AS_OF)
    refresh_s = time.perf_counter() - began
    began = time.perf_counter()
    summaries.refresh_position(PAST)  # as `relance kpi-refresh --month-ends 3` would store it
    past_refresh_s = time.perf_counter() - began

    setup_test_environment()  # the test client's host and template instrumentation
    director, collector = Client(), Client()
    director.force_login(User.objects.get(email="creditmanager@demo.relance.test"))
    collector.force_login(User.objects.get(email="collector1@demo.relance.test"))

    def page(client: Client, query: dict[str, str] | None = None) -> None:
        response = client.get("/", query or {})
        assert response.status_code == 200 and response.context["board"] is not None, response.status_code

    repeat = params["repeat"]
    today_ms = _median_ms(lambda: page(director), repeat)
    past_ms = _median_ms(lambda: page(director, {"date": PAST.isoformat()}), repeat)
    past_live_ms = _median_ms(lambda: page(director, {"date": PAST_LIVE.isoformat()}), max(1, repeat // 2))
    collector_ms = _median_ms(lambda: page(collector), repeat)
    kpi_ms = _median_ms(lambda: selectors.kpis(SystemActor("bench"), trend=True), repeat)
    live_today_ms = _median_ms(
        lambda: selectors.kpis(SystemActor("bench"), trend=True, use_summary=False), max(1, repeat // 2)
    )

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT currency, SUM(open_amount) FROM ledger_document WHERE open_amount > 0 GROUP BY currency"
            )
            cursor.fetchall()

    baseline_ms = _median_ms(baseline, repeat)
    measured = documents >= TARGET_DOCUMENTS
    return {
        "figures": {
            "documents": documents,
            "rows": summary.rows,
            "group_dashboard_today_ms": today_ms,
            "group_dashboard_past_month_end_ms": past_ms,
            "group_dashboard_past_other_date_ms": past_live_ms,
            "collector_dashboard_today_ms": collector_ms,
            "kpi_selector_today_ms": kpi_ms,
            "kpi_selector_today_without_summaries_ms": live_today_ms,
            "daily_refresh_s": round(refresh_s, 2),
            "past_date_refresh_s": round(past_refresh_s, 2),
        },
        "baseline": {
            "what": "SELECT currency, SUM(open_amount) FROM ledger_document WHERE open_amount > 0 GROUP BY currency",
            "ms": baseline_ms,
        },
        "ratio": {
            "dashboard_today_vs_baseline": round(today_ms / baseline_ms, 2) if baseline_ms else None,
            "dashboard_past_vs_baseline": round(past_ms / baseline_ms, 2) if baseline_ms else None,
        },
        "target": {
            "goal": f"{TARGET_DOCUMENTS:,} documents: today < {TARGET_TODAY_MS:.0f} ms, "
            f"past date < {TARGET_PAST_MS:.0f} ms",
            "how": "measured" if measured else "smaller ledger: not the target size (the figures do not extrapolate)",
            "pass": measured and today_ms < TARGET_TODAY_MS and past_ms < TARGET_PAST_MS,
        },
    }


register(
    Benchmark(
        name="dashboard",
        title="Group dashboard server time (today, a past date) on the demo ledger, with the daily summaries",
        run=run,
        params=(
            Param("customers", 2_000, "customer accounts (dashboard benchmark)"),
            Param("invoices", 100_000, "invoices (dashboard benchmark; 1000000 with 20000 customers for the target)"),
            Param("seed", 42, "random seed (dashboard benchmark)"),
            Param("repeat", 5, "requests per measure, median reported (dashboard benchmark)"),
        ),
    )
)
