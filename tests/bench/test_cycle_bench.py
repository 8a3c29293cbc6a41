"""The cycle benchmark's code runs (tiny sizes) and its figures hold together."""

from __future__ import annotations

from bench.registry import Context, benchmarks

# ``bench.cycle`` is imported inside the tests: importing it at collection would register it before the others
# (the registry lists benchmarks in the order of bench.registry.MODULES).


def test_the_cycle_benchmark_is_registered():
    assert "cycle" in benchmarks()


def test_a_tiny_cycle_benchmark(db):
    benchmarks()
    from bench import cycle

    result = cycle.run({"customers": 30, "documents": 300, "seed": 3}, Context())
    figures = result["figures"]
    assert figures["open_documents"] == 300
    assert figures["actions"]["first"]["decided"] > 0
    assert figures["actions"]["again"]["decided"] == 0  # the same date again: nothing new
    assert (
        figures["intents_recorded"]
        == figures["actions"]["first"]["decided"] + figures["actions"]["next_day"]["decided"]
    )
    assert result["baseline"]["rows"] == 300 and result["target"]["how"].startswith("extrapolated")
