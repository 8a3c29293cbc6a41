"""``demo``: how fast ``relance demo`` fills a database (invoices/s, rows/s, peak memory).

Target (issue "Foundation", part 6): 1,000,000 invoices for 20,000 customers in under 5 minutes on
two cores with SQLite. Smaller runs are extrapolated linearly from their invoices/s, and say so.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from .baseline import plain_inserts
from .registry import Benchmark, Context, Param, register

AS_OF = dt.date(2026, 6, 30)  # fixed: the same data from one run to the next
TARGET_INVOICES = 1_000_000
TARGET_SECONDS = 300.0


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from relance.demo.generator import Options, generate

    options = Options(customers=params["customers"], invoices=params["invoices"], seed=params["seed"], as_of=AS_OF)
    began, cpu = time.perf_counter(), time.process_time()
    summary = generate(options, progress=ctx.progress)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    rows = summary.rows
    invoices = summary.counts["invoices"]
    rows_per_s = rows / seconds
    invoices_per_s = invoices / seconds if invoices else 0.0
    baseline = plain_inserts(rows)
    measured = invoices >= TARGET_INVOICES
    projected = seconds if measured else (TARGET_INVOICES / invoices_per_s if invoices_per_s else float("inf"))
    return {
        "figures": {
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_seconds, 2),
            "invoices": invoices,
            "rows": rows,
            "invoices_per_s": round(invoices_per_s),
            "rows_per_s": round(rows_per_s),
            "counts": summary.counts,
        },
        "baseline": baseline,
        "ratio": {
            "rows_per_s_vs_baseline": round(rows_per_s / baseline["rows_per_s"], 4) if baseline["rows_per_s"] else None
        },
        "target": {
            "goal": f"{TARGET_INVOICES:,} invoices in under {TARGET_SECONDS:.0f} s",
            "seconds_for_target": round(projected, 1),
            "how": "measured" if measured else "extrapolated linearly from invoices/s",
            "pass": projected < TARGET_SECONDS,
        },
    }


register(
    Benchmark(
        name="demo",
        title="Demo data generator: invoices/s, rows/s and peak memory of `relance demo`",
        run=run,
        params=(
            Param("customers", 2_000, "customer accounts (demo benchmark)"),
            Param("invoices", 100_000, "invoices in total (demo benchmark; 1000000 for the full target)"),
            Param("seed", 42, "random seed (demo benchmark)"),
        ),
    )
)
