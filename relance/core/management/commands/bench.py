"""``relance bench``: run the benchmarks of ``bench/``, each on a temporary database of its own."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.registry import Benchmark, benchmarks
from bench.runner import BenchError, run


class Command(BaseCommand):
    help = (
        "Run benchmarks (all, or those named) on a temporary database, never yours: a SQLite file in a "
        "temporary directory, or with --database-url a PostgreSQL database created and dropped for the run. "
        "Prints a JSON list of results: parameters, absolute figures, and ratios to a baseline measured in "
        "the same run (the stable figure on noisy machines)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
        parser.add_argument("--list", action="store_true", help="list the benchmarks and their parameters")
        parser.add_argument("--json", action="store_true", help="print only the JSON results (no progress)")
        parser.add_argument(
            "--database-url",
            default=None,
            help="postgres://user@host:port/db: run on a temporary database created (and dropped) on that server",
        )
        seen: set[str] = set()
        for benchmark in benchmarks().values():
            for param in benchmark.params:
                if param.name not in seen:
                    seen.add(param.name)
                    parser.add_argument(f"--{param.name}", type=int, default=None, help=param.help)

    def handle(self, *args: Any, **opts: Any) -> None:
        registry = benchmarks()
        if opts["list"]:
            self.stdout.write(listing(registry))
            return
        names = opts["names"] or list(registry)
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise CommandError(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(registry)}.")
        quiet = opts["json"]
        results = []
        for name in names:
            benchmark = registry[name]
            params = benchmark.parameters(opts)
            if not quiet:
                shown = " ".join(f"--{k} {v}" for k, v in params.items())
                where = "a temporary PostgreSQL database" if opts["database_url"] else "a temporary SQLite database"
                self.stderr.write(f"Running {name} ({shown}) on {where}…")
            try:
                result = run(benchmark, params, database_url=opts["database_url"], progress=not quiet)
            except BenchError as exc:
                raise CommandError(str(exc))
            results.append(result)
            if not quiet:
                self.stderr.write(summary_line(result))
        self.stdout.write(json.dumps(results, indent=2))


def listing(registry: dict[str, Benchmark]) -> str:
    lines = []
    for benchmark in registry.values():
        lines.append(f"{benchmark.name}: {benchmark.title}")
        lines.extend(f"    --{p.name} (default {p.default}): {p.help}" for p in benchmark.params)
    return "\n".join(lines)


def summary_line(result: dict[str, Any]) -> str:
    figures, ratio, target = result.get("figures", {}), result.get("ratio", {}), result.get("target")
    parts = [f"{result['name']}:"]
    parts += [f"{k}={v}" for k, v in figures.items() if isinstance(v, int | float)]
    parts += [f"{k}={v}" for k, v in ratio.items()]
    if target:
        verdict = "PASS" if target.get("pass") else "FAIL"
        parts.append(f"target {target.get('goal')}: {verdict} ({target.get('seconds_for_target')} s, {target['how']})")
    return " ".join(parts)
