"""Exchange rates: the ECB reference-rate CSV layout (pure parser), loading, and conversion.

Layouts read (both as published by the ECB):
* history, ``eurofxref-hist.csv``: ``Date,USD,JPY,...`` then ``2024-01-05,1.0921,...`` (``N/A`` when absent);
* daily, ``eurofxref.csv``: ``Date, USD, JPY, ...`` then ``22 November 2024, 1.0463, ...``.
Each figure is units of the currency for one euro.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction

from relance.core import audit, errors
from relance.core.money import Money, is_currency, quantize

from .models import ExchangeRate

BASE = "EUR"


@dataclass(frozen=True, slots=True)
class Rate:
    date: dt.date
    currency: str
    rate: Decimal


def _parse_date(text: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d %B %Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_ecb_csv(text: str, *, filename: str = "<input>") -> Iterator[Rate]:
    """Rates from an ECB reference-rate CSV; errors name the file, row and column."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header or header[0].strip().lower() != "date":
        raise errors.ValidationError(f"{filename}: row 1: the first column must be 'Date' (ECB reference-rate layout).")
    columns = [h.strip().upper() for h in header]
    for index, code in enumerate(columns[1:], start=2):
        if code and not is_currency(code):
            raise errors.ValidationError(f"{filename}: row 1, column {index}: {code!r} is not a currency code.")
    for rowno, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        try:
            day = _parse_date(row[0])
        except ValueError:
            raise errors.ValidationError(f"{filename}: row {rowno}, column Date: {row[0]!r} is not a date.")
        for index, cell in enumerate(row[1:], start=1):
            code = columns[index] if index < len(columns) else ""
            value = cell.strip()
            if not code or not value or value.upper() == "N/A":
                continue
            try:
                rate = Decimal(value)
            except InvalidOperation:
                raise errors.ValidationError(f"{filename}: row {rowno}, column {code}: {value!r} is not a number.")
            if rate <= 0:
                raise errors.ValidationError(f"{filename}: row {rowno}, column {code}: the rate must be positive.")
            yield Rate(day, code, rate)


@transaction.atomic
def rates_load(*, actor: Any, path: Path) -> dict[str, int]:
    """Load (upsert) every rate of an ECB CSV file; all or nothing."""
    text = Path(path).read_text(encoding="utf-8-sig")
    rates = list(parse_ecb_csv(text, filename=str(path)))
    existing = {
        (r.date, r.currency): r for r in ExchangeRate.objects.filter(base=BASE, date__in={x.date for x in rates})
    }
    created, updated = [], []
    for r in rates:
        old = existing.get((r.date, r.currency))
        if old is None:
            created.append(ExchangeRate(date=r.date, currency=r.currency, base=BASE, rate=r.rate))
        elif old.rate != r.rate:
            old.rate = r.rate
            updated.append(old)
    ExchangeRate.objects.bulk_create(created, batch_size=2000)
    ExchangeRate.objects.bulk_update(updated, ["rate"], batch_size=2000)
    result = {"read": len(rates), "created": len(created), "updated": len(updated)}
    if created or updated:
        marker = ExchangeRate.objects.filter(base=BASE).order_by("-date").first()
        if marker is not None:
            audit.record(actor=actor, action="rates.load", obj=marker, changes=result, message=str(path))
    return result


class RateMissing(errors.RelanceError):
    pass


def rate_on(currency: str, day: dt.date) -> Decimal:
    """Units of ``currency`` per euro in force on ``day`` (the latest published on or before it)."""
    if currency == BASE:
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(base=BASE, currency=currency, date__lte=day)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise RateMissing(f"No {currency} exchange rate on or before {day}: load rates with `relance rates load FILE`.")
    return Decimal(rate)


def cross_rate(from_rate: Decimal, to_rate: Decimal) -> Decimal:
    """Units of the target currency for one unit of the source, from both rates against the euro (pure)."""
    return to_rate / from_rate


def convert(money: Money, to: str, day: dt.date) -> Money:
    """``money`` in currency ``to`` at the reference rates of ``day``, rounded to ``to``'s minor unit."""
    if money.currency == to:
        return money
    factor = cross_rate(rate_on(money.currency, day), rate_on(to, day))
    return Money(quantize(money.amount * factor, to), to)
