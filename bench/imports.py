"""``imports``: how fast ``relance import`` loads canonical CSV files (rows/s, seconds, peak memory).

Target: "a 1,000,000-row CSV file loads in bounded memory at 20,000 rows/s or more on SQLite". The benchmark
writes, in its temporary directory, a customers file (``--customers`` accounts), a documents file of ``--rows``
invoices and credit notes, and a payments file (about one payment row per four documents, some split over two
invoices, some unallocated), then imports them in that order with :func:`relance.ingest.services.import_file`,
exactly as ``relance import`` does (one transaction per file, the default all-or-nothing mode).

Baseline, measured in the same run and database: the documents file read with ``csv.reader`` and its rows
inserted as they are (text cells, no validation, no lookups, no index) with one plain ``executemany``
(streaming the reader) into a scratch table. It is the floor of what any importer pays for reading this file and
writing its rows from Python, so ``ratio.documents_rows_per_s_vs_baseline`` is the share of that speed the
real import keeps (parsing, validating, resolving customers and existing documents, unique index, webhooks
and audit included). The time to read the file alone is reported too (``baseline.read_seconds``).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from .registry import Benchmark, Context, Param, register

TARGET_ROWS_PER_S = 20_000
TARGET_ROWS = 1_000_000
COMPANY = "BEN"
FIRST_ISSUE = dt.date(2024, 7, 1)
DAYS = 730  # issue dates spread over two years: many rows share a date, as in real ledgers
CREDIT_NOTE_EVERY = 20
PAYMENT_EVERY = 4  # one payment per four documents
SCRATCH = "relance_bench_import_scratch"

DOCUMENT_HEADER = ["company", "customer_ref", "number", "type", "issue_date", "due_date", "currency", "amount",
                   "tax_amount", "corrects_number"]  # fmt: skip
PAYMENT_HEADER = ["company", "customer_ref", "reference", "date", "currency", "amount", "invoice_number",
                  "allocated_amount"]  # fmt: skip
CUSTOMER_HEADER = ["company", "customer_ref", "name", "country", "vat_number", "siren", "language",
                   "payment_terms_days", "email"]  # fmt: skip


def customer_ref(n: int) -> str:
    return f"C{n:06d}"


def _documents(rows: int, customers: int, seed: int) -> Iterator[tuple[list[str], Decimal]]:
    """(row, amount) of each document, deterministic for a seed."""
    rnd = random.Random(seed)
    for n in range(rows):
        issue = FIRST_ISSUE + dt.timedelta(days=rnd.randrange(DAYS))
        due = issue + dt.timedelta(days=(30, 45, 60)[n % 3])
        cents = rnd.randrange(1_000, 5_000_000)
        amount = Decimal(cents).scaleb(-2)
        tax = (amount / 6).quantize(Decimal("0.01"))
        credit = n % CREDIT_NOTE_EVERY == CREDIT_NOTE_EVERY - 1
        row = [COMPANY, customer_ref(rnd.randrange(customers)), f"{'AV' if credit else 'FA'}{n:08d}",
               "credit_note" if credit else "invoice", issue.isoformat(), due.isoformat(), "EUR", str(amount),
               str(tax), ""]  # fmt: skip
        yield row, amount


def write_files(folder: Path, *, rows: int, customers: int, seed: int = 7) -> dict[str, Any]:
    """The three canonical files of the benchmark, streamed to disk (never held in memory)."""
    paths = {kind: folder / f"{kind}.csv" for kind in ("customers", "documents", "payments")}
    with paths["customers"].open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(CUSTOMER_HEADER)
        for n in range(customers):
            out.writerow([COMPANY, customer_ref(n), f"Client {n}", "FR", "", "", "fr", "30", f"ap{n}@example.com"])
    payment_rows = 0
    rnd = random.Random(seed + 1)
    pending: dict[str, tuple[str, Decimal]] = {}  # customer -> an invoice waiting to be paid with the next one
    with (
        paths["documents"].open("w", newline="", encoding="utf-8") as docs,
        paths["payments"].open("w", newline="", encoding="utf-8") as pays,
    ):
        out, pay = csv.writer(docs), csv.writer(pays)
        out.writerow(DOCUMENT_HEADER)
        pay.writerow(PAYMENT_HEADER)
        for n, (row, amount) in enumerate(_documents(rows, customers, seed)):
            out.writerow(row)
            if row[3] != "invoice" or n % PAYMENT_EVERY:
                continue
            customer, number, day = row[1], row[2], row[5]
            reference = f"VIR{n:08d}"
            kind = rnd.randrange(10)
            if kind == 0:  # unallocated cash
                lines = [("", "", amount)]
            elif kind < 4:  # a partial payment
                part = (amount / 2).quantize(Decimal("0.01"))
                lines = [(number, str(part), part)]
            elif kind < 7:  # paid in full, sometimes with a surplus left unallocated
                lines = [(number, str(amount), amount + (Decimal("10.00") if kind == 6 else 0))]
            elif customer in pending:  # one transfer for two invoices of the customer: two rows, one reference
                first, first_amount = pending.pop(customer)
                total = first_amount + amount
                lines = [(first, str(first_amount), total), (number, str(amount), total)]
            else:
                pending[customer] = (number, amount)
                continue
            for invoice, allocated, total in lines:
                pay.writerow([COMPANY, customer, reference, day, "EUR", str(total), invoice, allocated])
                payment_rows += 1
    return {"paths": paths, "payment_rows": payment_rows}


def baseline(path: Path) -> dict[str, Any]:
    """Read ``path`` with csv.reader, then read it again inserting its rows as text with plain executemany."""
    from django.db import connection, transaction

    began = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as fh:
        rows = sum(1 for _ in csv.reader(fh)) - 1
    read_seconds = time.perf_counter() - began
    qn = connection.ops.quote_name
    table = qn(SCRATCH)
    columns = ", ".join(f"c{i} varchar(50)" for i in range(len(DOCUMENT_HEADER)))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} ({columns})")  # no key, no index: the floor
    # the driver's own cursor and placeholders: Django's executemany would keep every row to peek at the first
    marks = ", ".join(["?" if connection.vendor == "sqlite" else "%s"] * len(DOCUMENT_HEADER))
    sql = f"INSERT INTO {table} ({', '.join(f'c{i}' for i in range(len(DOCUMENT_HEADER)))}) VALUES ({marks})"  # noqa: S608
    began = time.perf_counter()
    with transaction.atomic(), path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        raw = connection.connection.cursor()
        try:
            raw.executemany(sql, reader)  # one executemany, streaming the file: memory stays small
        finally:
            raw.close()
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
    return {
        "what": "csv.reader over the documents file + plain executemany of its text cells into a scratch table "
        "(no validation, no lookups, no index), same database",
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "read_seconds": round(read_seconds, 3),
    }


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _import(kind: str, path: Path, ctx: Context) -> dict[str, Any]:
    from relance.ingest.services import import_file

    before = _rss_mb()
    began, cpu = time.perf_counter(), time.process_time()
    result = import_file(actor="bench", kind=kind, path=path)
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    if result.status != "loaded":
        raise RuntimeError(f"the {kind} file was {result.status}: {[str(e) for e in result.errors[:5]]}")
    rows = result.counts["read"]
    figures = {
        "rows": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds else None,
        "created": result.counts["created"],
        "peak_rss_mb": _rss_mb(),
        "peak_rss_growth_mb": _rss_mb() - before,  # what this import added to the process's peak
    }
    if ctx.progress:
        print(f"imports: {kind}: {rows:,} rows in {seconds:.1f} s, {figures['rows_per_s']:,} rows/s", file=sys.stderr)
    return figures


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from relance.ledger.selectors import check_invariants
    from relance.orgs.services import company_add

    company_add(actor="bench", code=COMPANY, name="Bench SA", country="FR", currency="EUR")
    with tempfile.TemporaryDirectory(prefix="relance-bench-imports-") as tmp:
        began = time.perf_counter()
        files = write_files(Path(tmp), rows=params["rows"], customers=params["customers"], seed=params["seed"])
        generate_seconds = time.perf_counter() - began
        paths = files["paths"]
        file_mb = round(os.path.getsize(paths["documents"]) / 1e6, 1)
        base = baseline(paths["documents"])  # first: the database is as fresh for it as for the imports
        customers = _import("customers", paths["customers"], ctx)
        documents = _import("documents", paths["documents"], ctx)
        payments = _import("payments", paths["payments"], ctx)
    problems = check_invariants() if params["rows"] <= 200_000 else None
    rate = documents["rows_per_s"] or 0
    measured = documents["rows"] >= TARGET_ROWS
    return {
        "figures": {
            "rows": documents["rows"],
            "seconds": documents["seconds"],
            "rows_per_s": rate,
            "payments_rows_per_s": payments["rows_per_s"],
            "customers_rows_per_s": customers["rows_per_s"],
            "documents": documents,
            "payments": payments,
            "customers": customers,
            "documents_file_mb": file_mb,
            "generate_seconds": round(generate_seconds, 2),
            "invariant_violations": len(problems) if problems is not None else "not checked (over 200,000 rows)",
            "load_average": [round(v, 2) for v in os.getloadavg()],  # the machine may be shared: read rates with it
        },
        "baseline": base,
        "ratio": {
            "documents_rows_per_s_vs_baseline": round(rate / base["rows_per_s"], 4) if base["rows_per_s"] else None,
        },
        "target": {
            "goal": f"{TARGET_ROWS:,} document rows at {TARGET_ROWS_PER_S:,} rows/s or more on SQLite, memory bounded",
            "rows_per_s": rate,
            "how": "measured" if measured else f"measured on {documents['rows']:,} rows (the rate is per row)",
            "pass": rate >= TARGET_ROWS_PER_S,
        },
    }


register(
    Benchmark(
        name="imports",
        title="CSV imports: documents rows/s against 20,000 rows/s, payments and customers rows/s, peak memory",
        run=run,
        params=(
            Param("rows", 200_000, "document rows (imports benchmark; 1000000 for the full target)"),
            Param("customers", 2_000, "customer accounts (imports benchmark)"),
            Param("seed", 42, "random seed (imports benchmark)"),
        ),
    )
)
