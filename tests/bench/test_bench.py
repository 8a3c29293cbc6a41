"""``relance bench``: benchmarks run in a child process on a temporary database, never the test's (or yours)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from bench.registry import Benchmark, Param, benchmarks
from relance.orgs.models import Company

pytestmark = pytest.mark.django_db


def bench(*args: str) -> str:
    out = io.StringIO()
    call_command("bench", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_list_names_the_demo_benchmark_and_its_parameters():
    text = bench("--list")
    assert text.startswith("demo: ")
    assert "--invoices (default 100000)" in text


def test_the_demo_benchmark_runs_on_a_temporary_database_and_leaves_this_one_untouched():
    results = json.loads(bench("demo", "--customers", "15", "--invoices", "400", "--json"))
    (result,) = results
    assert result["name"] == "demo"
    assert result["parameters"] == {"customers": 15, "invoices": 400, "seed": 42}
    figures = result["figures"]
    assert figures["invoices"] == 400 and figures["rows"] > 1_000
    assert figures["rows_per_s"] > 0 and figures["peak_rss_mb"] > 0
    assert result["baseline"]["rows"] == figures["rows"] and result["baseline"]["rows_per_s"] > 0
    assert 0 < result["ratio"]["rows_per_s_vs_baseline"]
    assert result["target"]["how"] == "extrapolated linearly from invoices/s"
    assert isinstance(result["target"]["pass"], bool)
    assert result["database"]["vendor"] == "sqlite"
    assert "temporary" in result["database"]["temporary"]
    assert Company.objects.count() == 0  # the test database saw nothing


def test_an_unknown_benchmark_is_refused_with_the_known_ones():
    with pytest.raises(CommandError, match="Unknown benchmark.*Known: demo"):
        bench("nosuch")


def test_parameters_default_and_can_be_overridden():
    demo = benchmarks()["demo"]
    assert demo.parameters({"invoices": 10, "unrelated": 3}) == {"customers": 2_000, "invoices": 10, "seed": 42}
    other = Benchmark("x", "x", run=lambda p, c: {}, params=(Param("rows", 5, "rows"),))
    assert other.parameters({"rows": None}) == {"rows": 5}


def test_the_child_refuses_to_run_outside_relance_bench(monkeypatch, capsys):
    from bench import child

    monkeypatch.delenv("RELANCE_BENCH_CHILD", raising=False)
    assert child.main(["demo", "{}", "/nonexistent/result.json", "0"]) == 2
    assert "temporary database" in capsys.readouterr().err
