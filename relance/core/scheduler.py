"""The daily scheduler run by ``relance serve`` (django-tasks has none).

Daily jobs register here with a name. Once the local time passes ``RELANCE_DAILY_AT``, each job
runs once for that business date: a ScheduledRun row with a unique (name, date) key is
claimed first, so two schedulers, a restart or a manual run never run a job twice for a date.
Operators without ``relance serve`` use cron instead: ``relance daily`` (see README).
Frequent jobs (``@frequent``) run at every tick, e.g. the webhook retry sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction

from relance.core import clock

from .models import ScheduledRun

log = logging.getLogger("relance.scheduler")

Job = Callable[[dt.date], dict[str, Any] | None]
_JOBS: dict[str, Job] = {}


def daily(name: str) -> Callable[[Job], Job]:
    """Decorator: register ``fn(as_of) -> result dict`` as a daily job."""

    def wrap(fn: Job) -> Job:
        _JOBS[name] = fn
        return fn

    return wrap


FrequentJob = Callable[[], dict[str, Any] | None]
_FREQUENT: dict[str, FrequentJob] = {}


def frequent(name: str) -> Callable[[FrequentJob], FrequentJob]:
    """Decorator: register ``fn()`` to run at every scheduler tick (about every 30 s).

    Such a job must be idempotent and cheap when there is nothing to do (e.g. the webhook retry sweep);
    the daily once-per-date claim does not apply to it.
    """

    def wrap(fn: FrequentJob) -> FrequentJob:
        _FREQUENT[name] = fn
        return fn

    return wrap


def frequent_jobs() -> dict[str, FrequentJob]:
    _load_jobs()
    return dict(_FREQUENT)


def run_frequent_jobs() -> dict[str, Any]:
    """Run every frequent job once; a failing job is logged and does not stop the others."""
    results: dict[str, Any] = {}
    for name, fn in sorted(frequent_jobs().items()):
        try:
            results[name] = fn() or {}
        except Exception as exc:
            log.exception("frequent job %s failed", name)
            results[name] = {"error": str(exc)}
    return results


# The order of the daily jobs where one reads what another writes; the others run after them, by name.
# Promises are reviewed first (kept or broken from yesterday's payments); the payment predictions and payer
# profiles are refreshed; the rescoring then sees the broken promises and the legal events, sets class X and
# the insolvency stop; only then does the dunning run decide; the dashboard summaries come after every write
# of the day, and the alert digest after every alert.
DAILY_ORDER = (
    "collections_promises",
    "ml",
    "risk",
    "collections_reminders",
    "analytics_summaries",
    "risk_alerts_digest",
)


def ordered(names: list[str] | set[str]) -> list[str]:
    """Pure: the daily job names in the order they must run (DAILY_ORDER first, then the others by name)."""
    rank = {name: n for n, name in enumerate(DAILY_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(DAILY_ORDER)), name))


def jobs() -> dict[str, Job]:
    """The daily jobs, in the order they run."""
    _load_jobs()
    return {name: _JOBS[name] for name in ordered(set(_JOBS))}


def _load_jobs() -> None:
    # Each app that has daily jobs declares them in its jobs.py; importing registers them.
    from importlib import import_module

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("relance."):
            try:
                import_module(f"{config.name}.jobs")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.jobs":
                    raise


def due_time() -> dt.time:
    hours, minutes = settings.RELANCE_DAILY_AT.split(":")
    return dt.time(int(hours), int(minutes))


def is_due(now_local: dt.datetime, at: dt.time) -> bool:
    """Pure: whether the daily run time has passed in local time."""
    return now_local.time() >= at


def run_job(name: str, as_of: dt.date) -> ScheduledRun | None:
    """Run one job for ``as_of`` unless it already ran (or is running) for that date. Returns the run or None."""
    fn = jobs()[name]
    try:
        with transaction.atomic():
            run = ScheduledRun.objects.create(name=name, date=as_of, started_at=clock.now())
    except IntegrityError:
        return None
    try:
        result = fn(as_of) or {}
        run.status, run.result = "done", result
    except Exception as exc:  # a failing job is recorded and must not kill the scheduler
        log.exception("daily job %s failed for %s", name, as_of)
        run.status, run.result = "failed", {"error": str(exc)}
    run.finished_at = clock.now()
    run.save(update_fields=["status", "result", "finished_at"])
    return run


def run_due_jobs(now: dt.datetime | None = None) -> list[ScheduledRun]:
    """Run every job that is due and has not run for today's business date."""
    now_local = (now or clock.now()).astimezone(ZoneInfo(settings.TIME_ZONE))
    if not is_due(now_local, due_time()):
        return []
    as_of = clock.today()
    done = []
    for name in jobs():
        run = run_job(name, as_of)
        if run is not None:
            done.append(run)
    return done


class SchedulerThread(threading.Thread):
    def __init__(self, interval: float = 30.0) -> None:
        super().__init__(name="relance-scheduler", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                close_old_connections()
                for run in run_due_jobs():
                    log.info("daily job %s for %s: %s", run.name, run.date, run.status)
                run_frequent_jobs()
            except Exception:
                log.exception("scheduler tick failed")
            finally:
                close_old_connections()
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
