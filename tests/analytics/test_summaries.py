"""The daily summaries give exactly the live figures, follow the scope, and are ignored once the ledger moved."""

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.analytics import positions, report, selectors, summaries
from relance.analytics.models import DailyFlow, DailyPosition, SummaryRun
from relance.analytics.sql import KpiFilters
from relance.core.scope import SystemActor
from relance.ledger import services

SYSTEM = SystemActor("test")


def both(user=SYSTEM, **kw):
    live = report.as_json(selectors.kpis(user, use_summary=False, trend=True, **kw))
    with pytest.MonkeyPatch.context() as mp:  # the summary path must not touch the ledger aggregates

        def forbidden(*a, **k):
            raise AssertionError("live aggregate used although the summary is fresh")

        mp.setattr(positions, "live_positions", forbidden)
        mp.setattr(positions, "live_flows", forbidden)
        stored = report.as_json(selectors.kpis(user, trend=True, **kw))
    return live, stored


@pytest.mark.parametrize("day", [None, dt.date(2026, 4, 16), dt.date(2026, 5, 31)], ids=str)
def test_summary_figures_equal_live_figures(example_ledger, day):
    summaries.refresh(day)
    assert summaries.fresh(summaries.POSITION, day or dt.date(2026, 6, 30))
    assert DailyPosition.objects.exists() and DailyFlow.objects.exists()
    live, stored = both(as_of=day)
    assert stored == live
    assert live["total_receivables"] != "0.00"


def test_summary_follows_scope_and_filters(example_ledger):
    summaries.refresh()
    live, stored = both(example_ledger.users["collector"])
    assert stored == live and stored["total_receivables"] == "1300.00"
    for f in (KpiFilters(company="UK1"), KpiFilters(risk_class="D"), KpiFilters(currency="GBP")):
        live, stored = both(filters=f)
        assert stored == live, f


def test_a_changed_ledger_makes_the_summary_stale_and_figures_stay_exact(example_ledger):
    summaries.refresh()
    led = example_ledger
    services.allocation_create(
        actor=SYSTEM, target=led.docs[2], amount=D("100.00"), date=dt.date(2026, 6, 30), payment=led.payments[1]
    )
    assert not summaries.fresh(summaries.POSITION, dt.date(2026, 6, 30))
    k = selectors.kpis(SYSTEM).kpis
    assert (k.total_receivables, k.unapplied_cash) == (D("1900.00"), D("500.00"))


def test_refresh_is_idempotent(example_ledger):
    first = summaries.refresh()
    n = DailyPosition.objects.count(), DailyFlow.objects.count()
    second = summaries.refresh()
    assert (DailyPosition.objects.count(), DailyFlow.objects.count()) == n
    assert first["position_cells"] == second["position_cells"]


def test_stored_forecast_customers_and_overdue_lists_equal_the_live_ones(example_ledger, client):
    from relance.analytics import dashboard, forecast, services
    from relance.analytics.selectors import Converter

    services.behaviour_refresh(actor=SYSTEM, as_of=dt.date(2026, 6, 30))
    today = dt.date(2026, 6, 30)
    live_fc = forecast.cash_forecast(SYSTEM, use_summary=False)
    summaries.refresh()
    assert summaries.fresh(summaries.FORECAST, today)
    stored_fc = forecast.stored_forecast(SYSTEM, KpiFilters(), today, Converter("EUR", today))
    q = D("0.01")
    assert [(a, b, v.quantize(q)) for a, b, v in stored_fc.weeks] == [
        (a, b, v.quantize(q)) for a, b, v in live_fc.weeks
    ]
    assert [v.quantize(q) for *_, v in stored_fc.months] == [v.quantize(q) for *_, v in live_fc.months]
    for user in (SYSTEM, example_ledger.users["collector"]):
        stored = dashboard.aged_by_customer(user, as_of=today, filters=KpiFilters(), currency="EUR")
        SummaryRun.objects.update(mark={})  # stale: the next calls compute live
        live = dashboard.aged_by_customer(user, as_of=today, filters=KpiFilters(), currency="EUR")
        live_od = dashboard.overdue_customers(user, as_of=today, limit=10)
        live_count = dashboard.overdue_customer_count(user, as_of=today)
        summaries.refresh()
        assert stored == live
        assert dashboard.overdue_customers(user, as_of=today, limit=10) == live_od
        assert dashboard.overdue_customer_count(user, as_of=today) == live_count
    assert [c.reference for c in live_od] == ["C1"]  # the collector's overdue customer


def test_the_dashboard_reads_only_summaries_when_fresh(example_ledger, client, django_assert_max_num_queries):
    summaries.refresh()
    client.force_login(example_ledger.users["credit_manager"])
    with pytest.MonkeyPatch.context() as mp:

        def forbidden(*a, **k):
            raise AssertionError("live aggregate used although the summary is fresh")

        for name in ("live_positions", "live_flows", "live_customers"):
            mp.setattr(positions, name, forbidden)
        from relance.analytics import forecast

        mp.setattr(forecast, "_expected", forbidden)
        response = client.get("/")
    assert response.status_code == 200 and response.context["board"] is not None
    assert 'data-testid="chart-forecast"' in response.content.decode()


def test_kpi_refresh_command_stores_past_dates(example_ledger):
    import json
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("kpi-refresh", "--json", "--month-ends", "2", "--days", "1", stdout=out)
    data = json.loads(out.getvalue())
    assert data["past_dates"] == ["2026-04-30", "2026-05-31", "2026-06-29"]
    assert summaries.fresh(summaries.POSITION, dt.date(2026, 5, 31))
    assert data["customers"] == 2


def test_the_catch_up_job_refreshes_stale_summaries_at_most_every_ten_minutes(example_ledger):
    from relance.analytics import jobs

    assert jobs.catch_up()["refreshed"] is True  # nothing yet
    assert jobs.catch_up() == {"refreshed": False}  # fresh
    led = example_ledger
    services.allocation_create(
        actor=SYSTEM, target=led.docs[2], amount=D("10.00"), date=dt.date(2026, 6, 30), payment=led.payments[1]
    )
    assert jobs.catch_up() == {"refreshed": False, "waiting": True}  # stale, but refreshed a moment ago
    SummaryRun.objects.update(computed_at=dt.datetime(2026, 6, 30, 0, 0, tzinfo=dt.UTC))
    assert jobs.catch_up()["refreshed"] is True
    assert summaries.fresh(summaries.POSITION, dt.date(2026, 6, 30))
