"""The scheduler of `relance serve`: daily jobs once per business date, frequent jobs every tick."""

import datetime as dt
from zoneinfo import ZoneInfo

from relance.core import scheduler
from relance.core.models import ScheduledRun

PARIS = ZoneInfo("Europe/Paris")


def test_daily_jobs_wait_for_their_time_then_run_once_per_date(db, settings, monkeypatch):
    settings.RELANCE_DAILY_AT = "06:00"
    calls = []
    monkeypatch.setattr(scheduler, "_JOBS", {"probe": lambda as_of: calls.append(as_of) or {"ok": 1}})
    monkeypatch.setattr(scheduler, "_load_jobs", lambda: None)
    assert scheduler.run_due_jobs(dt.datetime(2026, 6, 30, 5, 59, tzinfo=PARIS)) == []
    runs = scheduler.run_due_jobs(dt.datetime(2026, 6, 30, 6, 0, tzinfo=PARIS))
    assert [(r.name, r.status, r.result) for r in runs] == [("probe", "done", {"ok": 1})]
    assert scheduler.run_due_jobs(dt.datetime(2026, 6, 30, 23, 0, tzinfo=PARIS)) == []
    assert calls == [dt.date(2026, 6, 30)]


def test_a_failing_daily_job_is_recorded_and_does_not_stop_the_others(db, monkeypatch):
    def boom(as_of):
        raise RuntimeError("bank unreachable")

    monkeypatch.setattr(scheduler, "_JOBS", {"a_boom": boom, "b_ok": lambda as_of: {}})
    monkeypatch.setattr(scheduler, "_load_jobs", lambda: None)
    runs = scheduler.run_due_jobs(dt.datetime(2026, 6, 30, 12, 0, tzinfo=PARIS))
    assert {r.name: r.status for r in runs} == {"a_boom": "failed", "b_ok": "done"}
    assert ScheduledRun.objects.get(name="a_boom").result == {"error": "bank unreachable"}


def test_frequent_jobs_run_every_tick_and_failures_are_contained(db, monkeypatch):
    ticks = []

    def boom():
        raise ValueError("nope")

    monkeypatch.setattr(scheduler, "_FREQUENT", {"probe": lambda: ticks.append(1) or {"n": len(ticks)}, "x": boom})
    monkeypatch.setattr(scheduler, "_load_jobs", lambda: None)
    assert scheduler.run_frequent_jobs() == {"probe": {"n": 1}, "x": {"error": "nope"}}
    assert scheduler.run_frequent_jobs()["probe"] == {"n": 2}


def test_the_real_registry_holds_housekeeping_and_the_webhook_sweep(db):
    assert "housekeeping" in scheduler.jobs()
    assert "webhooks_retry" in scheduler.frequent_jobs()


def test_daily_jobs_that_read_what_others_write_run_after_them():
    names = {"webhooks", "risk", "collections_reminders", "ml", "a_new_job", "collections_promises"}
    assert scheduler.ordered(names) == [
        "collections_promises",
        "ml",
        "risk",
        "collections_reminders",
        "a_new_job",
        "webhooks",
    ]


def test_the_real_registry_rescores_before_dunning_and_summarises_last(db):
    names = list(scheduler.jobs())
    position = {name: names.index(name) for name in scheduler.DAILY_ORDER}
    assert [name for name in names if name in position] == list(scheduler.DAILY_ORDER)
    assert position["risk"] < position["collections_reminders"] < position["analytics_summaries"]
