"""Running one benchmark in a child process on a temporary database, created here and removed afterwards.

SQLite (default): a file in a temporary directory. PostgreSQL (``database_url``): a database named
``relance_bench_<random>`` created on that server, dropped at the end. The user's database is never used:
the child's ``DATABASE_URL`` and ``RELANCE_SQLITE_PATH`` both point at the temporary one.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .registry import Benchmark


class BenchError(RuntimeError):
    pass


@contextmanager
def temporary_postgres(url: str) -> Iterator[str]:
    """A fresh database on the server of ``url``; yields its URL and drops it afterwards."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise BenchError(f"--database-url must be a postgres:// URL (got {parts.scheme}://); SQLite is the default.")
    name = f"relance_bench_{secrets.token_hex(4)}"
    admin = psycopg.connect(url, autocommit=True)
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlunsplit(parts._replace(path="/" + name))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        admin.close()


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpu_count": os.cpu_count(), "platform": platform.platform()}


def run(
    benchmark: Benchmark, params: dict[str, int], *, database_url: str | None = None, progress: bool = False
) -> dict[str, Any]:
    """Run ``benchmark`` with ``params`` in a child process on a temporary database; return its result."""
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as tmp:
        env = dict(os.environ)
        env.update(
            RELANCE_BENCH_CHILD="1",
            RELANCE_VAR_DIR=tmp,
            MEDIA_ROOT=str(Path(tmp) / "media"),
            DEBUG="0",  # no query log in the measured process
        )
        env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        # the child runs in the temporary directory: let it import this checkout (bench, config, relance)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        result_path = Path(tmp) / "result.json"
        if database_url:
            with temporary_postgres(database_url) as url:
                env["DATABASE_URL"] = url
                _child(benchmark, params, env, tmp, result_path, progress)
            where = {"temporary": "postgresql database, dropped"}
        else:
            path = Path(tmp) / "bench.sqlite3"
            env["DATABASE_URL"] = f"sqlite:///{path}"
            env["RELANCE_SQLITE_PATH"] = str(path)
            _child(benchmark, params, env, tmp, result_path, progress)
            where = {"temporary": "sqlite file in a temporary directory, removed"}
        result = json.loads(result_path.read_text(encoding="utf-8"))
    database = {**result.pop("database", {}), **where}
    return {
        "name": benchmark.name,
        "title": benchmark.title,
        "parameters": params,
        **result,
        "database": database,
        "machine": machine(),
    }


def _child(
    benchmark: Benchmark, params: dict[str, int], env: dict[str, str], cwd: str, result_path: Path, progress: bool
) -> None:
    command = [sys.executable, "-m", "bench.child", benchmark.name, json.dumps(params), str(result_path)]
    command.append("1" if progress else "0")
    proc = subprocess.run(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=None if progress else subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not result_path.exists():
        tail = (proc.stderr or "").strip().splitlines()[-15:]
        raise BenchError(f"benchmark {benchmark.name} failed (exit {proc.returncode}):\n" + "\n".join(tail))
