"""The child process of ``relance bench``: ``python -m bench.child NAME PARAMS_JSON RESULT_PATH PROGRESS``.

Its environment points the database at a temporary one (set by :mod:`bench.runner`); it migrates it,
runs one benchmark and writes the result, with its own peak memory, as JSON to RESULT_PATH.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def main(argv: list[str]) -> int:
    name, params_json, result_path, progress = argv
    if os.environ.get("RELANCE_BENCH_CHILD") != "1":
        print("bench.child only runs under `relance bench` (it needs a temporary database).", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.registry import Context, benchmarks

    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - began
    result = benchmarks()[name].run(json.loads(params_json), Context(progress=progress == "1"))
    result.setdefault("figures", {})["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["database"] = {"vendor": connection.vendor, "migrate_seconds": round(migrate_seconds, 2)}
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
