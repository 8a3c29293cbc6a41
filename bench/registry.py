"""The benchmark registry (see the package docstring of ``bench``).

Kept in a module of its own so that it works whether ``bench`` is imported as a regular or a namespace package.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MODULES = (
    "bench.demo",
    "bench.cashapp",
    "bench.imports",
    "bench.risk",
    "bench.dashboard",
    "bench.cycle",
    "bench.ml",
)  # one module per benchmark; add yours here


@dataclass(frozen=True)
class Param:
    """An integer parameter, exposed as ``relance bench --<name>``."""

    name: str
    default: int
    help: str


@dataclass(frozen=True)
class Context:
    """What the child process passes to ``run`` besides the parameters."""

    progress: bool = False


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    run: Callable[[dict[str, int], Context], dict[str, Any]]
    params: tuple[Param, ...] = ()

    def parameters(self, given: dict[str, int | None] | None = None) -> dict[str, int]:
        """The defaults, overridden by the given values this benchmark knows."""
        given = given or {}
        return {p.name: given[p.name] if given.get(p.name) is not None else p.default for p in self.params}


REGISTRY: dict[str, Benchmark] = {}


def register(benchmark: Benchmark) -> Benchmark:
    REGISTRY[benchmark.name] = benchmark
    return benchmark


def benchmarks() -> dict[str, Benchmark]:
    """Every registered benchmark, by name (importing the benchmark modules on first use)."""
    for module in MODULES:
        importlib.import_module(module)
    return dict(REGISTRY)
