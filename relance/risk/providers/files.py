"""The file/JSON provider: scores exported by a bureau (or typed in a spreadsheet) as CSV, XLSX or JSON.

Columns (JSON: keys of each object, in a list or under ``"scores"``): ``siren`` or ``vat_number`` or
``company`` + ``customer_ref``; ``score``; ``as_of`` (YYYY-MM-DD); optional ``recommended_limit`` and
``currency``. Scores are normalised from the provider's scale (``--scale LOW-HIGH``, default 0-100;
``--lower-is-safer`` for default-probability-like scales).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from relance.ingest import readers
from relance.ingest.rows import CANONICAL, BadValue, RowError, parse_date, parse_decimal

from . import Identifier, ScoreRecord, normalise


def read_records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) from a CSV/XLSX table or a JSON list of objects (row = 1-based index + 1)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            from relance.core import errors

            raise errors.ValidationError(f"{path}: not a JSON document ({exc}).", field="file")
        if isinstance(data, dict):
            for key in ("scores", "results", "records", "items", "data"):
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
        if not isinstance(data, list):
            from relance.core import errors

            raise errors.ValidationError(f"{path}: expected a list of objects.", field="file")
        for i, item in enumerate(data, start=2):
            if isinstance(item, dict) and isinstance(item.get("fields"), dict):  # Opendatasoft v1 records
                item = item["fields"]
            if isinstance(item, dict):
                yield i, {str(k): item[k] for k in item}
            else:
                yield i, {"__invalid__": str(item)}
        return
    table = readers.open_table(path)
    yield from table.rows


def text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    return str(value).strip()


def identifier(raw: dict[str, Any]) -> Identifier:
    siren = "".join(ch for ch in text(raw, "siren") if ch.isdigit())
    return Identifier(
        siren=siren,
        vat_number=text(raw, "vat_number").replace(" ", "").upper(),
        company=text(raw, "company"),
        customer_ref=text(raw, "customer_ref"),
    )


class FileProvider:
    """Reads one file; :meth:`parse` returns the records and the row errors (nothing is written here)."""

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        low: Decimal = Decimal(0),
        high: Decimal = Decimal(100),
        lower_is_safer: bool = False,
    ) -> None:
        self.name, self.path = name, Path(path)
        self.low, self.high, self.lower_is_safer = low, high, lower_is_safer

    def parse(self) -> tuple[list[ScoreRecord], list[RowError]]:
        records, errs = [], []
        file = str(self.path)
        for row, raw in read_records(self.path):
            bad = len(errs)

            def fail(column: str, value: str, reason: str, row: int = row) -> None:
                errs.append(RowError(file, row, column, value, reason))

            if "__invalid__" in raw:
                fail("", raw["__invalid__"][:40], "not an object")
                continue
            ident = identifier(raw)
            if not (ident.siren or ident.vat_number or (ident.company and ident.customer_ref)):
                fail("siren", "", "give siren, vat_number, or company and customer_ref")
            if ident.siren and len(ident.siren) != 9:
                fail("siren", text(raw, "siren"), "a SIREN has 9 digits")
            score = None
            value = text(raw, "score")
            try:
                score = parse_decimal(value, CANONICAL)
                if not min(self.low, self.high) <= score <= max(self.low, self.high):
                    fail("score", value, f"outside the provider's scale {self.low}-{self.high}")
                    score = None
            except BadValue as exc:
                fail("score", value, f"not a number ({exc})" if value else "is required")
            as_of = None
            try:
                as_of = parse_date(text(raw, "as_of"), CANONICAL)
            except BadValue as exc:
                fail("as_of", text(raw, "as_of"), str(exc) if text(raw, "as_of") else "is required")
            limit, currency = None, text(raw, "currency").upper()
            if text(raw, "recommended_limit"):
                try:
                    limit = parse_decimal(text(raw, "recommended_limit"), CANONICAL)
                    if limit < 0:
                        fail("recommended_limit", text(raw, "recommended_limit"), "cannot be negative")
                except BadValue as exc:
                    fail("recommended_limit", text(raw, "recommended_limit"), f"not a number ({exc})")
                if not currency:
                    fail("currency", "", "is required with recommended_limit")
            if len(errs) > bad or score is None or as_of is None:
                continue
            normalised = normalise(score, self.low, self.high, higher_is_safer=not self.lower_is_safer)
            records.append(ScoreRecord(ident, normalised, as_of, value, limit, currency, row))
        return records, errs

    def fetch(self, identifiers: Iterable[Identifier], as_of: dt.date) -> Iterable[ScoreRecord]:
        wanted = set(identifiers)
        records, _ = self.parse()
        return [r for r in records if r.identifier in wanted and r.as_of <= as_of]
