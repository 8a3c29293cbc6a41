"""Reading a CSV of invoices for ``relance ml evaluate --input FILE`` (pure: a path in, facts out).

Columns (header row, any order, comma or semicolon separated, UTF-8): ``customer_ref, number, issue_date,
due_date, currency, amount, paid_date`` and optionally ``disputed`` (0/1); other columns are ignored.
Dates are ISO (``2026-03-31``) or ``31/03/2026``; amounts use a dot or a comma as decimal separator.
An empty ``paid_date`` means not paid (yet): the invoice counts in its customer's history as unpaid, it is not
evaluated. ``disputed`` = 1 counts in the customer's dispute history from the invoice's payment date (when the
dispute is surely known), never as a feature of the invoice itself.

Every problem is reported with the file, the row (as a spreadsheet shows it: the header is row 1) and the column;
nothing is evaluated when there is one.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

from relance.core.errors import ValidationError

from .features import InvoiceFacts

REQUIRED = ("customer_ref", "number", "issue_date", "due_date", "currency", "amount", "paid_date")
OPTIONAL = ("disputed",)
MAX_REPORTED = 20

NO_FILE = "{file}: no such file."
NOT_CSV = "{file}: cannot be read as UTF-8 CSV ({reason})."
MISSING_COLUMNS = "{file}: missing column(s) {columns}; the header must name {required}."
EMPTY_FILE = "{file}: no rows after the header."
BAD_DATE = "{file}, row {row}, column {column}: {value!r} is not a date (use YYYY-MM-DD or DD/MM/YYYY)."
BAD_AMOUNT = "{file}, row {row}, column amount: {value!r} is not a positive amount."
BAD_CURRENCY = "{file}, row {row}, column currency: {value!r} is not a three-letter currency code."
BAD_FLAG = "{file}, row {row}, column disputed: {value!r} must be 0 or 1."
EMPTY_VALUE = "{file}, row {row}, column {column}: empty."
DUE_BEFORE_ISSUE = "{file}, row {row}, column due_date: {due} is before the issue date {issue}."
PAID_BEFORE_ISSUE = "{file}, row {row}, column paid_date: {paid} is before the issue date {issue}."
DUPLICATE = "{file}, row {row}, column number: invoice {number!r} of customer {customer!r} already on row {first}."


def _date(value: str) -> dt.date | None:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _amount(value: str) -> Decimal | None:
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def read_invoices(path: Path) -> dict[str, list[InvoiceFacts]]:
    """The file's invoices grouped by customer reference (raises ValidationError listing the problems)."""
    name = str(path)
    if not path.is_file():
        raise ValidationError(NO_FILE.format(file=name), field="input")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(NOT_CSV.format(file=name, reason=exc), field="input")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ValidationError(
            MISSING_COLUMNS.format(file=name, columns=", ".join(missing), required=", ".join(REQUIRED)),
            field="input",
        )
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    out: dict[str, list[InvoiceFacts]] = defaultdict(list)
    for index, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        empty = [c for c in REQUIRED[:-1] if not row.get(c)]
        if empty:
            problems.extend(EMPTY_VALUE.format(file=name, row=index, column=c) for c in empty)
            continue
        issue, due = _date(row["issue_date"]), _date(row["due_date"])
        paid = _date(row["paid_date"]) if row.get("paid_date") else None
        amount = _amount(row["amount"])
        currency = row["currency"].upper()
        flag = row.get("disputed", "") or "0"
        before = len(problems)
        for column, value in (("issue_date", issue), ("due_date", due)):
            if value is None:
                problems.append(BAD_DATE.format(file=name, row=index, column=column, value=row[column]))
        if row.get("paid_date") and paid is None:
            problems.append(BAD_DATE.format(file=name, row=index, column="paid_date", value=row["paid_date"]))
        if amount is None:
            problems.append(BAD_AMOUNT.format(file=name, row=index, value=row["amount"]))
        if len(currency) != 3 or not currency.isalpha():
            problems.append(BAD_CURRENCY.format(file=name, row=index, value=row["currency"]))
        if flag not in ("0", "1"):
            problems.append(BAD_FLAG.format(file=name, row=index, value=flag))
        if issue and due and due < issue:
            problems.append(DUE_BEFORE_ISSUE.format(file=name, row=index, due=due, issue=issue))
        if issue and paid and paid < issue:
            problems.append(PAID_BEFORE_ISSUE.format(file=name, row=index, paid=paid, issue=issue))
        key = (row["customer_ref"], row["number"])
        if key in seen:
            problems.append(DUPLICATE.format(file=name, row=index, number=key[1], customer=key[0], first=seen[key]))
        seen.setdefault(key, index)
        if len(problems) > before:
            continue
        out[row["customer_ref"]].append(
            InvoiceFacts(
                key=f"{row['customer_ref']}\x1f{row['number']}",
                issue_date=issue,  # type: ignore[arg-type]
                due_date=due,  # type: ignore[arg-type]
                amount=amount,  # type: ignore[arg-type]
                currency=currency,
                settled_on=paid,
                disputes=(paid,) if flag == "1" and paid else (),
            )
        )
    if problems:
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        raise ValidationError("\n".join(shown) + (f"\n… and {more} more problem(s)." if more else ""), field="input")
    if not out:
        raise ValidationError(EMPTY_FILE.format(file=name), field="input")
    return dict(out)
