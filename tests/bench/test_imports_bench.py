"""``relance bench imports``: generated canonical files imported on a temporary database, rates against a baseline."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from bench.registry import benchmarks
from relance.ledger.models import Document

pytestmark = pytest.mark.django_db


def test_the_imports_benchmark_runs_tiny_and_reports_rates_memory_baseline_and_target():
    out = io.StringIO()
    call_command("bench", "imports", "--rows", "400", "--customers", "15", "--json", stdout=out, stderr=io.StringIO())
    (result,) = json.loads(out.getvalue())
    assert result["name"] == "imports" and result["parameters"] == {"rows": 400, "customers": 15, "seed": 42}
    figures = result["figures"]
    assert figures["rows"] == 400 and figures["documents"]["created"] == 400
    assert figures["rows_per_s"] > 0 and figures["payments_rows_per_s"] > 0 and figures["customers_rows_per_s"] > 0
    assert figures["payments"]["rows"] > 0 and figures["customers"]["created"] == 15
    assert figures["invariant_violations"] == 0 and figures["peak_rss_mb"] > 0
    assert len(figures["load_average"]) == 3
    assert result["baseline"]["rows"] == 400 and result["baseline"]["rows_per_s"] > 0
    assert 0 < result["ratio"]["documents_rows_per_s_vs_baseline"]
    target = result["target"]
    assert target["how"] == "measured on 400 rows (the rate is per row)" and isinstance(target["pass"], bool)
    assert result["database"]["vendor"] == "sqlite" and "temporary" in result["database"]["temporary"]
    assert not Document.objects.exists()  # the test database saw nothing


def test_it_is_listed_with_its_parameters():
    out = io.StringIO()
    call_command("bench", "--list", stdout=out)
    assert "imports: CSV imports" in out.getvalue() and "--rows (default 200000)" in out.getvalue()
    assert benchmarks()["imports"].parameters({"rows": 10}) == {"rows": 10, "customers": 2_000, "seed": 42}


def test_the_generated_files_are_canonical_deterministic_and_split_some_payments(tmp_path):
    benchmarks()  # the registry's own order first (demo is listed first)
    from bench import imports

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = imports.write_files(tmp_path / "a", rows=300, customers=10, seed=3)
    second = imports.write_files(tmp_path / "b", rows=300, customers=10, seed=3)
    for kind in ("customers", "documents", "payments"):
        assert first["paths"][kind].read_bytes() == second["paths"][kind].read_bytes()
    with first["paths"]["documents"].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300 and {r["type"] for r in rows} == {"invoice", "credit_note"}
    with first["paths"]["payments"].open(encoding="utf-8") as fh:
        payments = list(csv.DictReader(fh))
    references = [p["reference"] for p in payments]
    assert len(references) > len(set(references))  # some payments have two rows
    assert any(not p["invoice_number"] for p in payments)  # and some are unallocated cash
    assert first["payment_rows"] == len(payments)
