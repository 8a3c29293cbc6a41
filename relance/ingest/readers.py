"""Reading tabular files as they come from real systems (pure, streaming).

CSV with any delimiter (sniffed among ``;`` ``,`` tab ``|``), UTF-8 (with or without BOM) or
Windows-1252, and XLSX (first sheet, read-only). Rows come out as ``(row_number, {header: text})``
where row_number is the line a spreadsheet user sees (the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

from relance.core import errors

DELIMITERS = ";,\t|"
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Table:
    """An opened table: its headers and a row iterator."""

    path: str
    headers: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    encoding: str = ""
    delimiter: str = ""


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (BOM or valid UTF-8), else Windows-1252 (what French ERPs and Excel write)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is still UTF-8
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
        return "cp1252"


def detect_delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _clean_header(h: object) -> str:
    return str(h or "").strip().lstrip("\ufeff").strip()


def open_csv(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> Table:
    raw = Path(path).open("rb")
    sample = raw.read(SNIFF_BYTES)
    raw.seek(0)
    enc = encoding or detect_encoding(sample)
    text: IO[str] = io.TextIOWrapper(raw, encoding=enc, newline="")
    sample_text = sample.decode(enc, errors="ignore")
    delim = delimiter or detect_delimiter(sample_text)
    reader = csv.reader(text, delimiter=delim)
    try:
        header_row = next(reader)
    except StopIteration:
        raw.close()
        raise errors.ValidationError(f"{path}: the file is empty.", field="file")
    except UnicodeDecodeError:
        raw.close()
        raise errors.ValidationError(f"{path}: not readable as {enc}.", field="file")
    headers = [_clean_header(h) for h in header_row]
    _check_headers(str(path), headers)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for rowno, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(headers) and any(c.strip() for c in row[len(headers) :]):
                    raise errors.ValidationError(
                        f"{path}: row {rowno}: {len(row)} cells for {len(headers)} columns "
                        f"(is the delimiter {delim!r} right, or a field quoted wrongly?)",
                        field="file",
                    )
                yield rowno, {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(headers) if h}
        except UnicodeDecodeError as exc:
            raise errors.ValidationError(f"{path}: not readable as {enc} near byte {exc.start}.", field="file")
        finally:
            raw.close()

    return Table(str(path), headers, rows(), enc, delim)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel stores numbers as binary floats: go through the shortest repr, never str(float) noise
        return format(Decimal(repr(value)).normalize(), "f") if value != int(value) else str(int(value))
    return str(value).strip()


def open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a broken file
        raise errors.ValidationError(f"{path}: not a readable XLSX file ({exc}).", field="file")
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        headers = [_clean_header(h) for h in next(iterator)]
    except StopIteration:
        workbook.close()
        raise errors.ValidationError(f"{path}: the first sheet is empty.", field="file")
    _check_headers(str(path), headers)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            for rowno, row in enumerate(iterator, start=2):
                cells = [_cell_text(v) for v in row]
                if not any(cells):
                    continue
                yield rowno, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers) if h}
        finally:
            workbook.close()

    return Table(str(path), headers, rows())


def _check_headers(path: str, headers: list[str]) -> None:
    seen: set[str] = set()
    for h in headers:
        if h and h.lower() in seen:
            raise errors.ValidationError(f"{path}: row 1: the column {h!r} appears twice.", field="file")
        seen.add(h.lower())


def open_table(path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> Table:
    """Open a CSV or XLSX file by its content (XLSX is a zip file)."""
    path = Path(path)
    if not path.exists():
        raise errors.ValidationError(f"{path}: no such file.", field="file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        return open_xlsx(path)
    return open_csv(path, encoding=encoding, delimiter=delimiter)
