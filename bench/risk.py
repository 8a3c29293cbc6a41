"""``risk``: how fast customers are rescored (``relance risk rescore --all`` and the incremental daily run).

Target (issue "Customer risk"): 100,000 customers rescored in under 60 s on 2 cores. The benchmark writes, with
plain ``executemany`` (not timed), ``--customers`` accounts in one company with a legal entity each, about
``--invoices`` invoices per customer over the last 15 months (most settled, some late, some open and overdue),
a financial statement for a fifth of the entities, an external score for a third and a legal event for one in a
thousand. It then times :func:`relance.risk.scoring.rescore` with ``full=True`` (every customer scored and written
for the first time), a second full pass (everything scored again, nothing changed, nothing written) and an
incremental pass after 1% of the customers got a new invoice.

Baseline, same run and database: one plain SQL ``GROUP BY customer_id`` over the invoices (count, sum of amounts,
sum of days between due date and settlement) with its rows fetched into Python. It is the floor of any set-based
read of the ledger; ``ratio.full_vs_baseline`` is how many such aggregates the full rescore costs.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

from .registry import Benchmark, Context, Param, register

AS_OF = dt.date(2026, 6, 30)
TARGET_CUSTOMERS, TARGET_SECONDS = 100_000, 60.0
ROUND = 50_000


def _fill(customers: int, invoices: int, seed: int) -> int:
    from django.db import connection, transaction

    from relance.orgs.models import Company, Group

    rng = random.Random(seed)
    group = Group.objects.create(name="Bench", currency="EUR")
    company = Company.objects.create(group=group, code="BR1", name="Bench risk", country="FR", currency="EUR")
    now = "2026-06-30 08:00:00+00:00"
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {qn('ledger_legalentity')} (id, key, name, country, siren, vat_number, created_at, "
            "updated_at) VALUES (%s, %s, %s, 'FR', '', '', %s, %s)",
            [(i, f"REF:BR1:{i}", f"Entity {i}", now, now) for i in range(1, customers + 1)],
        )
        sizes = ("micro", "small", "medium", "large", "")
        sectors = ("4321Z", "5610A", "6201Z", "4711D", "2562B", "")
        cur.executemany(
            f"INSERT INTO {qn('ledger_customer')} (id, company_id, reference, name, legal_entity_id, siren, siret, "
            "vat_number, country, sector_code, size, language, payment_terms_days, kind, strategic, payer_profile, "
            "risk_class, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', '', '', 'FR', %s, %s, 'fr', 30, "
            "'business', %s, '', '', %s, %s)",
            [
                (i, company.pk, f"C{i:06d}", f"Customer {i}", i, sectors[i % 6], sizes[i % 5], False, now, now)
                for i in range(1, customers + 1)
            ],
        )
        rows, number = [], 0
        for c in range(1, customers + 1):
            habit = rng.choice((0, 0, 0, 3, 8, 20, 45))
            for _ in range(max(1, int(rng.gauss(invoices, invoices / 3)))):
                number += 1
                issue = AS_OF - dt.timedelta(days=rng.randint(5, 450))
                due = issue + dt.timedelta(days=30)
                amount = rng.randint(200, 20000)
                settled = due + dt.timedelta(days=max(-10, int(rng.gauss(habit, 6))))
                is_open = settled >= AS_OF or rng.random() < 0.05
                rows.append(
                    (number, company.pk, c, f"B{number:08d}", issue, due, amount, 0, 0 if not is_open else amount,
                     None if is_open else settled, now, now)
                )  # fmt: skip
                if len(rows) >= ROUND:
                    _insert_documents(cur, rows)
                    rows = []
        _insert_documents(cur, rows)
        cur.executemany(
            f"INSERT INTO {qn('risk_financialstatement')} (legal_entity_id, fiscal_year_end, currency, total_assets, "
            "total_liabilities, equity, working_capital, retained_earnings, ebit, sales, cash, source, updated_at) "
            "VALUES (%s, '2025-12-31', 'EUR', %s, %s, %s, %s, %s, %s, %s, %s, 'bench', %s)",
            [
                (i, 1_000_000, 600_000, 400_000, rng.randint(-100_000, 300_000), rng.randint(-50_000, 300_000),
                 rng.randint(-50_000, 150_000), 2_000_000, 50_000, now)
                for i in range(1, customers + 1, 5)
            ],
        )  # fmt: skip
        cur.executemany(
            f"INSERT INTO {qn('risk_externalscore')} (legal_entity_id, provider, as_of, score, raw_value, currency, "
            "updated_at) VALUES (%s, 'bureau', '2026-05-31', %s, '', '', %s)",
            [(i, rng.randint(5, 95), now) for i in range(1, customers + 1, 3)],
        )
        cur.executemany(
            f"INSERT INTO {qn('risk_legalevent')} (legal_entity_id, kind, reference, published_on, court, "
            "representative, description, source, raw, created_at) VALUES (%s, 'receivership', %s, '2026-06-01', "
            "'', '', '', 'bench', '{}', %s)",
            [(i, f"BENCH-{i}", now) for i in range(1, customers + 1, 1000)],
        )
    return number


def _insert_documents(cur: Any, rows: list[tuple]) -> None:
    from django.db import connection

    cur.executemany(
        f"INSERT INTO {connection.ops.quote_name('ledger_document')} (id, company_id, customer_id, number, type, "
        "issue_date, due_date, currency, amount, tax_amount, open_amount, settled_on, original_file, source, "
        "created_at, updated_at) VALUES (%s, %s, %s, %s, 'invoice', %s, %s, 'EUR', %s, %s, %s, %s, '', 'bench', "
        "%s, %s)",
        rows,
    )


def _baseline() -> dict[str, Any]:
    from django.db import connection

    days = "julianday(settled_on) - julianday(due_date)" if connection.vendor == "sqlite" else "(settled_on - due_date)"
    began = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT customer_id, COUNT(*), SUM(amount), SUM({days}) FROM ledger_document "  # noqa: S608
            "GROUP BY customer_id"
        )
        rows = cur.fetchall()
    seconds = time.perf_counter() - began
    return {"what": "plain SQL GROUP BY customer over the invoices, rows fetched", "rows": len(rows),
            "seconds": round(seconds, 3)}  # fmt: skip


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from django.db import connection

    from relance.core import clock
    from relance.ledger.models import Document
    from relance.risk import scoring

    customers, invoices = params["customers"], params["invoices"]
    clock.freeze(dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC))
    began = time.perf_counter()
    documents = _fill(customers, invoices, params["seed"])
    fill_seconds = time.perf_counter() - began
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    baseline = _baseline()
    began = time.perf_counter()
    first = scoring.rescore(as_of=AS_OF, full=True)
    full_seconds = time.perf_counter() - began
    clock.freeze(dt.datetime(2026, 6, 30, 10, 0, tzinfo=dt.UTC))
    began = time.perf_counter()
    second = scoring.rescore(as_of=AS_OF, full=True)
    again_seconds = time.perf_counter() - began
    touched = list(range(1, customers + 1, 100))
    clock.freeze(dt.datetime(2026, 6, 30, 11, 0, tzinfo=dt.UTC))
    Document.objects.filter(customer_id__in=touched, open_amount__gt=0).update(updated_at=clock.now())
    clock.freeze(dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC))
    began = time.perf_counter()
    incremental = scoring.rescore(as_of=AS_OF)
    incremental_seconds = time.perf_counter() - began
    clock.freeze(None)
    per_customer = full_seconds / customers
    extrapolated = per_customer * TARGET_CUSTOMERS
    return {
        "figures": {
            "customers": customers,
            "invoices": documents,
            "fill_seconds": round(fill_seconds, 2),
            "full_seconds": round(full_seconds, 2),
            "full_customers_per_s": round(customers / full_seconds),
            "full_written": first.changed,
            "again_seconds": round(again_seconds, 2),
            "again_written": second.changed,
            "incremental_seconds": round(incremental_seconds, 2),
            "incremental_considered": incremental.considered,
            "incremental_written": incremental.changed,
        },
        "baseline": baseline,
        "ratio": {"full_vs_baseline": round(full_seconds / max(baseline["seconds"], 1e-6), 2)},
        "target": {
            "goal": f"{TARGET_CUSTOMERS:,} customers rescored (--all) in under {TARGET_SECONDS:g} s",
            "seconds_for_target": round(extrapolated if customers < TARGET_CUSTOMERS else full_seconds, 1),
            "how": "measured"
            if customers >= TARGET_CUSTOMERS
            else f"extrapolated linearly from {customers:,} customers (the work is per customer)",
            "pass": (extrapolated if customers < TARGET_CUSTOMERS else full_seconds) < TARGET_SECONDS,
        },
    }


register(
    Benchmark(
        name="risk",
        title="Risk rescoring: full and incremental, customers per second, vs a plain SQL aggregate",
        run=run,
        params=(
            Param("customers", 10_000, "customer accounts (risk benchmark; target 100,000)"),
            Param("invoices", 8, "invoices per customer on average (risk benchmark)"),
            Param("seed", 42, "random seed"),
        ),
    )
)
