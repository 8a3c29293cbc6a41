"""Benchmarks run by ``relance bench``, each on a temporary database of its own (never the user's).

A benchmark is a module of this package that calls :func:`register` with a :class:`Benchmark`: its
``run(params, ctx)`` executes in a child process whose database is a fresh, migrated temporary one,
and returns a dict with

* ``figures``: absolute measurements (seconds, rows/s…), noisy from one machine or run to the next;
* ``baseline``: the same kind of work done the plainest way, measured in the same run and database;
* ``ratio``: figures divided by the baseline, the stable number to compare across machines;
* optionally ``target``: the goal and whether it is met (``pass``).

To add one: write ``bench/<name>.py`` calling ``register(...)`` and list it in ``bench.registry.MODULES``.
"""

from __future__ import annotations

from .registry import MODULES, REGISTRY, Benchmark, Context, Param, benchmarks, register

__all__ = ["MODULES", "REGISTRY", "Benchmark", "Context", "Param", "benchmarks", "register"]
