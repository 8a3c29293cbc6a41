"""``ml``: the daily ML job on the demo data (payer profiles, training with its time-split metrics, predictions).

Target (issue "Payer profiles and payment-date prediction"): the daily job on the demo data (300 customers,
30,000 invoices) in under 60 s. The benchmark generates the demo group (``relance demo``, not timed) as of a fixed
date, then times :func:`relance.ml.services.daily_cycle` with no model yet (so every company is trained: the
time-split evaluation stored with the model, then the model on all paid invoices) and a second run the same day
(models fresh: profiles and predictions only). It also reports the evaluation figures stored with the models.

Baseline, same run and database: reading every company's invoices into the as-of facts the ML app works on
(``relance.ml.data.company_history``), the floor of any learning from the ledger; ``ratio.daily_vs_baseline`` is how
many such reads the first daily run costs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from .registry import Benchmark, Context, Param, register

AS_OF = dt.date(2026, 6, 30)
TARGET_SECONDS = 60.0


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from relance.core import clock
    from relance.demo.generator import Options, generate
    from relance.ml import data, services
    from relance.orgs.models import Company

    generate(Options(customers=params["customers"], invoices=params["invoices"], seed=params["seed"], as_of=AS_OF))
    clock.freeze(AS_OF)
    companies = list(Company.objects.order_by("code"))
    began = time.perf_counter()
    for company in companies:
        data.company_history(company.pk)
    baseline_seconds = time.perf_counter() - began
    began, cpu = time.perf_counter(), time.process_time()
    first = services.daily_cycle(as_of=AS_OF, actor="bench")
    first_seconds, first_cpu = time.perf_counter() - began, time.process_time() - cpu
    began = time.perf_counter()
    services.daily_cycle(as_of=AS_OF, actor="bench")
    again_seconds = time.perf_counter() - began
    clock.freeze(None)
    metrics = {
        code: {
            k: r["train"]["metrics"].get(k)
            for k in ("mae_days", "baseline_due_date_mae", "baseline_customer_mean_mae", "auc_late")
        }
        for code, r in first.items()
        if r.get("train", {}).get("version")
    }
    return {
        "figures": {
            "invoices": params["invoices"],
            "customers": params["customers"],
            "first_daily_seconds": round(first_seconds, 2),
            "first_daily_cpu_seconds": round(first_cpu, 2),
            "again_daily_seconds": round(again_seconds, 2),
            "predicted": sum(r["predictions"]["predicted"] for r in first.values()),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "metrics": metrics,
        },
        "baseline": {"what": "company_history() of every company", "seconds": round(baseline_seconds, 3)},
        "ratio": {"daily_vs_baseline": round(first_seconds / max(baseline_seconds, 1e-6), 1)},
        "target": {
            "goal": f"the first daily ML run on the demo data (30,000 invoices) in under {TARGET_SECONDS:g} s",
            "seconds": round(first_seconds, 1),
            "cpu_seconds": round(first_cpu, 1),
            "pass": first_seconds < TARGET_SECONDS,
            "note": "wall-clock time; on a machine busy with other work compare cpu_seconds and load_average",
        },
    }


register(
    Benchmark(
        name="ml",
        title="Daily ML job on the demo data: profiles, training with metrics, predictions",
        run=run,
        params=(
            Param("customers", 300, "customer accounts (ml benchmark; the demo's default)"),
            Param("invoices", 30_000, "invoices in total (ml benchmark; the demo's default)"),
            Param("seed", 42, "random seed"),
        ),
    )
)
