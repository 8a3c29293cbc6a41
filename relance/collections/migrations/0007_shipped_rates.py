"""The reference rates Relance ships: ECB main refinancing rate by date, French legal rate by half-year."""

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = {"policy": ("ecb_key_rates.csv", "date_with_effect_from", "main_refinancing_rate"),
         "legal": ("fr_legal_rate.csv", "date", "rate")}


def load(apps, schema_editor):
    ReferenceRate = apps.get_model("collections", "ReferenceRate")
    for kind, (name, date_col, rate_col) in FILES.items():
        with (DATA / name).open(encoding="utf-8") as handle:
            rows = {
                dt.date.fromisoformat(r[date_col]): Decimal(r[rate_col])
                for r in csv.DictReader(handle)
                if (r[rate_col] or "").strip()  # an empty cell: the rate did not change that day
            }
        ReferenceRate.objects.bulk_create(
            [ReferenceRate(kind=kind, date=d, rate=r, source=name) for d, r in sorted(rows.items())],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("collections", "0006_reference_rates")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
