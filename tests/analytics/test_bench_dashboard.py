"""The dashboard benchmark runs end to end on a tiny ledger (the figures themselves are not asserted)."""

from bench.registry import benchmarks


def test_dashboard_benchmark_is_registered_with_its_parameters():
    bench = benchmarks()["dashboard"]
    assert {p.name for p in bench.params} == {"customers", "invoices", "seed", "repeat"}
