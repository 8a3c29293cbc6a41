"""The daily summaries give exactly the live figures, follow the scope, and are ignored once the ledger moved."""

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.analytics import positions, report, selectors, summaries
from relance.analytics.models import DailyFlow, DailyPosition
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
