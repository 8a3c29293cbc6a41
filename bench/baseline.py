"""Baselines measured in the same run and database as the benchmark, so that ratios cancel the machine's noise."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection, transaction

SCRATCH = "relance_bench_scratch"
ROUND = 100_000  # rows per executemany: the baseline streams, its memory stays small


def plain_inserts(rows: int) -> dict[str, Any]:
    """Insert ``rows`` minimal rows (id, integer, short text) into a scratch table with plain ``executemany``.

    One transaction, no secondary index: about the fastest this database takes rows from Python.
    """
    qn = connection.ops.quote_name
    table = qn(SCRATCH)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, n integer NOT NULL, label varchar(20) NOT NULL)")
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        sql = f"INSERT INTO {table} (id, n, label) VALUES (%s, %s, %s)"  # noqa: S608 - constant table name
        for start in range(0, rows, ROUND):
            cursor.executemany(sql, [(i, i * 7, "row") for i in range(start + 1, min(start + ROUND, rows) + 1)])
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
    return {
        "what": "plain executemany of minimal rows (id, integer, text) into a scratch table, same database",
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds) if seconds else None,
    }
