"""Credit-information providers: where external scores come from.

A provider is anything with ``name`` and ``fetch(identifiers, as_of)`` returning :class:`ScoreRecord` values
(:class:`ScoreProvider`). Two ship: :class:`relance.risk.providers.files.FileProvider` reads a CSV or JSON
export (``relance import scores FILE --provider NAME``) and :class:`FakeProvider` answers from memory (tests).
How to write an adapter for a bureau's API (and configure it) is in docs/risk.md, "External scores".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Identifier:
    """Who to ask about: a SIREN (France), else a VAT number, else our own account reference."""

    siren: str = ""
    vat_number: str = ""
    company: str = ""
    customer_ref: str = ""


@dataclass(frozen=True)
class ScoreRecord:
    identifier: Identifier
    score: int  # normalised to 0-100, higher is safer
    as_of: dt.date
    raw_value: str = ""
    recommended_limit: Decimal | None = None
    currency: str = ""
    row: int = 0  # where it came from (file row), for error messages


class ScoreProvider(Protocol):
    name: str

    def fetch(self, identifiers: Iterable[Identifier], as_of: dt.date) -> Iterable[ScoreRecord]: ...


def normalise(value: Decimal, low: Decimal, high: Decimal, *, higher_is_safer: bool = True) -> int:
    """A provider's value on its own scale, as 0-100 (rounded, clamped)."""
    if high == low:
        raise ValueError("the scale's bounds are equal")
    share = (value - low) / (high - low)
    if not higher_is_safer:
        share = 1 - share
    return int(max(Decimal(0), min(Decimal(100), (share * 100).quantize(Decimal(1)))))


class FakeProvider:
    """An in-memory provider for tests: answers with the records it was given for the identifiers asked."""

    def __init__(self, name: str, records: dict[str, tuple[int, Decimal | None]]) -> None:
        self.name = name
        self.records = records  # SIREN -> (score 0-100, recommended limit)

    def fetch(self, identifiers: Iterable[Identifier], as_of: dt.date) -> Iterable[ScoreRecord]:
        for ident in identifiers:
            if ident.siren in self.records:
                score, limit = self.records[ident.siren]
                yield ScoreRecord(ident, score, as_of, str(score), limit, "EUR" if limit is not None else "")
