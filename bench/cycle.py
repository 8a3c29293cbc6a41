"""``cycle``: how fast the dunning cycle decides and records its actions (``relance cycle``).

Target (issue "Collections"): deciding and recording the dunning actions for 1,000,000 open documents and
100,000 customers in under 120 s on 2 cores on SQLite, linear in the open documents; sending is measured
separately (here: not at all, the intents stay ``pending``). The benchmark writes, with plain ``executemany``
(not timed), ``--customers`` accounts in one company with about ``--documents`` open invoices in all, due from
60 days ago to 10 days ahead, a contact with an e-mail for two customers in three (the others get letters), an
open dispute on one invoice in 50 and an open promise on one customer in 40. It then times

* ``first``: the cycle for 2026-06-30 on a ledger never dunned (every account has something due: the
  heaviest day: every action is an insert, every document a new level);
* ``again``: the same date once more (everything read and decided again, nothing new to record);
* ``next_day``: the day after (a few invoices reach their next step).

Baseline, same run and database: one plain SQL read of the open documents that the cycle reads (the same
columns, rows fetched into Python). ``ratio.first_vs_baseline`` is how many such reads the cycle costs.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from .registry import Benchmark, Context, Param, register

AS_OF = dt.date(2026, 6, 30)
TARGET_DOCUMENTS, TARGET_SECONDS = 1_000_000, 120.0
ROUND = 50_000


def _fill(customers: int, documents: int, seed: int) -> int:
    from django.db import connection, transaction

    from relance.collections.models import CollectionSettings
    from relance.orgs.models import Company, Group

    rng = random.Random(seed)
    group = Group.objects.create(name="Bench", currency="EUR")
    company = Company.objects.create(group=group, code="BC1", name="Bench cycle", country="FR", currency="EUR")
    # the bench's ledger is stamped at a fixed date: no freshness hold (runs for today would otherwise be held)
    CollectionSettings.objects.create(company=company, freshness_hours=0)
    now = "2026-06-30 05:00:00+00:00"
    qn = connection.ops.quote_name
    profiles = ("prompt", "slow_steady", "erratic", "deteriorating", "defaulting", "")
    risks = ("A", "B", "C", "D", "E", "")
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {qn('ledger_customer')} (id, company_id, reference, name, siren, siret, vat_number, country, "
            "sector_code, size, language, payment_terms_days, kind, strategic, payer_profile, risk_class, created_at, "
            "updated_at) VALUES (%s, %s, %s, %s, '', '', '', 'FR', '', '', 'fr', 30, 'business', %s, %s, %s, %s, %s)",
            [
                (i, company.pk, f"C{i:06d}", f"Customer {i}", i % 97 == 0, profiles[i % 6], risks[i % 6], now, now)
                for i in range(1, customers + 1)
            ],
        )
        cur.executemany(
            f"INSERT INTO {qn('ledger_contact')} (customer_id, name, email, phone, role, is_main_ap, language) "
            "VALUES (%s, 'AP', %s, '', 'accounts_payable', %s, '')",
            [(i, f"ap{i}@bench.example", True) for i in range(1, customers + 1) if i % 3],
        )
        rows, number = [], 0
        per = max(1, documents // customers)
        for c in range(1, customers + 1):
            for _ in range(per):
                number += 1
                due = AS_OF - dt.timedelta(days=rng.randint(-10, 60))
                amount = rng.randint(50, 5000)
                rows.append((number, company.pk, c, f"B{number:08d}", due - dt.timedelta(days=30), due, amount, 0,
                             amount, now, now))  # fmt: skip
                if len(rows) >= ROUND:
                    _insert_documents(cur, rows)
                    rows = []
        _insert_documents(cur, rows)
        cur.executemany(
            f"INSERT INTO {qn('collections_dispute')} (id, company_id, customer_id, reason, message, status, "
            "opened_on, created_at, updated_at) VALUES (%s, %s, %s, 'price', '', 'open', '2026-06-01', %s, %s)",
            [(d, company.pk, (d - 1) // per + 1, now, now) for d in range(1, number + 1, 50)],
        )
        cur.executemany(
            f"INSERT INTO {qn('collections_dispute_documents')} (dispute_id, document_id) VALUES (%s, %s)",
            [(d, d) for d in range(1, number + 1, 50)],
        )
        cur.executemany(
            f"INSERT INTO {qn('collections_promise')} (company_id, customer_id, amount, currency, promised_for, "
            "made_on, status, source, created_at, updated_at) VALUES (%s, %s, 100, 'EUR', '2026-07-05', "
            "'2026-06-25', 'open', 'collector', %s, %s)",
            [(company.pk, c, now, now) for c in range(1, customers + 1, 40)],
        )
    return number


def _insert_documents(cur: Any, rows: list[tuple]) -> None:
    from django.db import connection

    cur.executemany(
        f"INSERT INTO {connection.ops.quote_name('ledger_document')} (id, company_id, customer_id, number, type, "
        "issue_date, due_date, currency, amount, tax_amount, open_amount, settled_on, original_file, source, "
        "created_at, updated_at) VALUES (%s, %s, %s, %s, 'invoice', %s, %s, 'EUR', %s, %s, %s, NULL, '', 'bench', "
        "%s, %s)",
        rows,
    )


def _baseline() -> dict[str, Any]:
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT d.id, d.number, d.type, d.customer_id, d.currency, d.due_date, d.open_amount, s.level "
            "FROM ledger_document d LEFT JOIN collections_dunningstate s ON s.document_id = d.id "
            "WHERE d.open_amount > 0 ORDER BY d.customer_id, d.currency, d.due_date, d.id"
        )
        rows = cur.fetchall()
    seconds = time.perf_counter() - began
    return {"what": "plain SQL read of the open documents with their level, ordered by customer, rows fetched",
            "rows": len(rows), "seconds": round(seconds, 3)}  # fmt: skip


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from django.db import connection

    from relance.collections import cycle
    from relance.collections.models import DunningAction, DunningState

    began = time.perf_counter()
    documents = _fill(params["customers"], params["documents"], params["seed"])
    fill_seconds = time.perf_counter() - began
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    baseline = _baseline()
    timings = {}
    results = {}
    for label, day in (("first", AS_OF), ("again", AS_OF), ("next_day", AS_OF + dt.timedelta(days=1))):
        began = time.perf_counter()
        results[label] = cycle.cycle_run(as_of=day, actor="bench", execute=False)
        timings[label] = time.perf_counter() - began
    counts = {
        label: {
            "decided": sum(1 for a in r.actions if a["status"] != "skipped"),
            "skipped": sum(1 for a in r.actions if a["status"] == "skipped"),
        }
        for label, r in results.items()
    }
    projected = timings["first"] * TARGET_DOCUMENTS / max(documents, 1)
    return {
        "figures": {
            "customers": params["customers"],
            "open_documents": documents,
            "fill_seconds": round(fill_seconds, 2),
            **{f"{k}_seconds": round(v, 2) for k, v in timings.items()},
            "documents_per_s": round(documents / timings["first"]),
            "actions": counts,
            "intents_recorded": DunningAction.objects.count(),
            "levels_recorded": DunningState.objects.count(),
        },
        "baseline": baseline,
        "ratio": {"first_vs_baseline": round(timings["first"] / max(baseline["seconds"], 1e-6), 2)},
        "target": {
            "goal": f"decide and record for {TARGET_DOCUMENTS:,} open documents in under {TARGET_SECONDS:.0f} s",
            "seconds_for_target": round(projected, 1),
            "how": "measured" if documents >= TARGET_DOCUMENTS else "extrapolated linearly from the first run",
            "pass": projected < TARGET_SECONDS,
        },
    }


register(
    Benchmark(
        name="cycle",
        title="Dunning cycle: deciding and recording the actions for every open document",
        run=run,
        params=(
            Param("customers", 10_000, "customer accounts"),
            Param("documents", 100_000, "open invoices in all"),
            Param("seed", 42, "random seed"),
        ),
    )
)
