"""Loading the reference rates of late-payment interest (``relance rates load FILE --kind policy|legal``).

Layouts:

* ``policy``: the ECB key-rates table shipped in ``relance/collections/data/ecb_key_rates.csv``
  (``date_with_effect_from, ..., main_refinancing_rate, ...``), percent a year;
* ``legal``: ``date,rate[,note]`` — the French legal interest rate per half-year (``fr_legal_rate.csv``).

All or nothing: a bad row refuses the file, naming the row and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction

from relance.core import audit, errors

from .models import ReferenceRate

DATA = Path(__file__).with_name("data")
KINDS = {"policy": ("date_with_effect_from", "main_refinancing_rate"), "legal": ("date", "rate")}


def parse(text: str, kind: str, *, source: str = "file") -> list[tuple[dt.date, Decimal]]:
    if kind not in KINDS:
        raise errors.ValidationError(f"Unknown kind of rate {kind!r}; kinds: {', '.join(KINDS)}.", field="kind")
    date_col, rate_col = KINDS[kind]
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in (date_col, rate_col) if c not in (reader.fieldnames or [])]
    if missing:
        raise errors.ValidationError(
            f"{source}: missing column(s) {', '.join(missing)} for --kind {kind}.", field="file"
        )
    out: dict[dt.date, Decimal] = {}
    for n, row in enumerate(reader, start=2):
        if not (row[rate_col] or "").strip():
            continue  # an empty cell: that rate did not change on that date (the ECB table moves one rate at a time)
        try:
            day = dt.date.fromisoformat((row[date_col] or "").strip())
        except ValueError:
            raise errors.ValidationError(
                f"{source} row {n}, {date_col}: {row[date_col]!r} is not a date (YYYY-MM-DD).", field=date_col
            )
        try:
            rate = Decimal((row[rate_col] or "").strip())
            if not rate.is_finite() or rate < -5 or rate > 100:
                raise InvalidOperation
        except InvalidOperation:
            raise errors.ValidationError(
                f"{source} row {n}, {rate_col}: {row[rate_col]!r} is not a rate in percent.", field=rate_col
            )
        out[day] = rate
    if not out:
        raise errors.ValidationError(f"{source}: no rate in the file.", field="file")
    return sorted(out.items())


@transaction.atomic
def load(*, actor: Any, path: Path, kind: str) -> dict[str, Any]:
    rows = parse(path.read_text(encoding="utf-8"), kind, source=path.name)
    created = updated = 0
    for day, rate in rows:
        obj, made = ReferenceRate.objects.update_or_create(
            kind=kind, date=day, defaults={"rate": rate, "source": path.name[:200]}
        )
        created += made
        updated += not made
    audit.record(
        actor=actor, action="rates.load", obj=obj, changes={"kind": kind, "file": path.name, "rows": len(rows)}
    )
    return {"kind": kind, "read": len(rows), "created": created, "updated": updated}


def table(kind: str) -> list[tuple[dt.date, Decimal]]:
    return list(ReferenceRate.objects.filter(kind=kind).order_by("date").values_list("date", "rate"))
