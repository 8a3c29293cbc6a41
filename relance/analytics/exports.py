"""Exports of the user's scope as CSV or XLSX: customers, open items, aged balance.

Columns are stable (they are what ERPs and spreadsheets are wired to): see docs/exports.md.
CSV is UTF-8 with a byte-order mark (Excel opens it right), comma-separated, amounts with a point
(the canonical import layout reads them back). XLSX has typed cells (numbers, dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from relance.core.money import quantize
from relance.ledger import domain, selectors
from relance.ledger.domain import DEFAULT_BUCKETS

from .aging import aged_balance

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Export:
    name: str
    headers: list[str]
    rows: Iterable[list[Any]]


def customers_export(user: Any, *, as_of: dt.date) -> Export:
    """Customer accounts with what the ERP needs back: risk class, payer profile, balances, score, credit limits
    and the block (``blocked``: the ERP stops taking orders on credit)."""
    headers = [
        "company",
        "customer_ref",
        "name",
        "country",
        "vat_number",
        "siren",
        "payment_terms_days",
        "agency",
        "collector_email",
        "sales_rep_email",
        "payer_profile",
        "risk_class",
        "currency",
        "open_balance",
        "overdue",
        *RISK_HEADERS,
    ]
    risk = _risk_columns()
    balances: dict[int, list[tuple[str, Decimal, Decimal]]] = {}
    for row in aged_balance(user, as_of=as_of):
        balances.setdefault(row.customer_id, []).append((row.currency, row.total, row.overdue))

    def rows() -> Iterator[list[Any]]:
        for c in selectors.customers(user).iterator(chunk_size=2000):
            base = [
                c.company.code,
                c.reference,
                c.name,
                c.country,
                c.vat_number,
                c.siren,
                c.payment_terms_days,
                c.agency.code if c.agency else "",
                c.collector.email if c.collector else "",
                c.sales_rep.email if c.sales_rep else "",
                c.payer_profile,
                c.risk_class,
            ]
            extra = risk.get(c.pk, ["", "", "", False, ""])
            for currency, total, overdue in balances.get(c.pk) or [(c.company.currency, None, None)]:
                yield [*base, currency, total, overdue, *extra]

    return Export("customers", headers, rows())


# The customer's risk for the ERP (issue 5): score, limits in the company currency, and the block to apply.
RISK_HEADERS = ["score", "credit_limit_recommended", "credit_limit_granted", "blocked", "blocked_reason"]


def _risk_columns() -> dict[int, list[Any]]:
    """{customer id: risk columns}, read once (set-based)."""
    from relance.core import clock
    from relance.core.money import quantize
    from relance.risk.models import CustomerRisk

    today = clock.today()
    out: dict[int, list[Any]] = {}
    for r in CustomerRisk.objects.values_list(
        "customer_id", "score", "recommended_limit", "granted_limit", "granted_expires_on", "blocked",
        "blocked_reason", "currency",
    ).iterator(chunk_size=5000):  # fmt: skip
        cid, score, recommended, granted, expires, blocked, reason, currency = r
        if granted is not None and expires is not None and expires < today:
            granted = None
        out[cid] = [
            score if score is not None else "",
            quantize(Decimal(recommended), currency) if recommended is not None else "",
            quantize(Decimal(granted), currency) if granted is not None else "",
            blocked,
            reason,
        ]
    return out


def open_items_export(user: Any, *, as_of: dt.date) -> Export:
    headers = [
        "company",
        "customer_ref",
        "customer_name",
        "number",
        "type",
        "issue_date",
        "due_date",
        "currency",
        "amount",
        "open_amount",
        "days_overdue",
    ]

    def rows() -> Iterator[list[Any]]:
        docs = selectors.documents(user, selectors.DocumentFilters(status="open")).order_by(
            "company__code", "customer__reference", "due_date", "number"
        )
        for d in docs.iterator(chunk_size=5000):
            sign = -1 if d.type == "credit_note" else 1
            yield [
                d.company.code,
                d.customer.reference,
                d.customer.name,
                d.number,
                d.type,
                d.issue_date,
                d.due_date,
                d.currency,
                quantize(sign * d.amount, d.currency),
                quantize(sign * d.open_amount, d.currency),
                domain.days_overdue(d.due_date, as_of),
            ]

    return Export("open-items", headers, rows())


def aged_balance_export(user: Any, *, as_of: dt.date) -> Export:
    names = [b.name for b in DEFAULT_BUCKETS]
    headers = ["company", "customer_ref", "customer_name", "currency", *names, "total"]

    def rows() -> Iterator[list[Any]]:
        for r in aged_balance(user, as_of=as_of):
            yield [r.company, r.customer_ref, r.customer_name, r.currency, *(r.buckets[n] for n in names), r.total]

    return Export("aged-balance", headers, rows())


EXPORTS = {"customers": customers_export, "open-items": open_items_export, "aged-balance": aged_balance_export}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(export: Export, out: IO[str]) -> int:
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(export.headers)
    n = 0
    for row in export.rows:
        writer.writerow([_text(v) for v in row])
        n += 1
    return n


def write_xlsx(export: Export, out: IO[bytes]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(export.name[:31])
    bold = Font(bold=True)
    header = []
    for h in export.headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    n = 0
    for row in export.rows:
        ws.append(row)
        n += 1
    wb.save(out)
    return n


def render(export: Export, fmt: str) -> bytes:
    """The whole export as bytes (for HTTP responses); large exports should stream with write_csv."""
    if fmt == "csv":
        buf = io.StringIO()
        write_csv(export, buf)
        return buf.getvalue().encode("utf-8")
    if fmt == "xlsx":
        bio = io.BytesIO()
        write_xlsx(export, bio)
        return bio.getvalue()
    raise ValueError(f"unknown format {fmt!r}")


# ---------------------------------------------------------------- dashboard tables (relance.analytics.dashboard)


def kpi_export(data: dict[str, Any]) -> Export:
    """The KPI figures of the dashboard (report.as_json) as kpi, value, currency rows."""
    money = {"total_receivables", "not_due", "overdue", "collected_30_days", "sales_90_days", "disputed",
             "under_promise", "unapplied_cash", "deposits", "at_risk", "insured", "factored"}  # fmt: skip
    rows: list[list[Any]] = []
    for key, value in data.items():
        if isinstance(value, (list, dict)):
            continue
        rows.append([key, _number(value), data["currency"] if key in money else ""])
    rows += [[f"aging:{a['bucket']}", _number(a["amount"]), data["currency"]] for a in data["aging"]]
    rows += [
        [f"risk_class:{r['risk_class'] or '-'}", _number(r["amount"]), data["currency"]] for r in data["by_risk_class"]
    ]
    rows += [[f"dso_trend:{t['month_end']}", _number(t["dso_standard"]), ""] for t in data["dso_trend"]]
    return Export("kpi", ["kpi", "value", "currency"], rows)


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def dashboard_aging_export(data: dict[str, Any]) -> Export:
    rows = [[a["bucket"], a["min_days"], a["max_days"], _number(a["amount"]), data["currency"]] for a in data["aging"]]
    return Export("aging", ["bucket", "min_days", "max_days", "amount", "currency"], rows)


def forecast_export(forecast: Any, currency: str) -> Export:
    rows: list[list[Any]] = [["week", a, b, quantize(v, currency), currency] for a, b, v in forecast.weeks] + [
        ["month", a, b, quantize(v, currency), currency] for a, b, v in forecast.months
    ]
    return Export("forecast", ["period", "first_day", "last_day", "expected_receipts", "currency"], rows)


def customers_aging_export(customers: Iterable[Any], bucket_names: list[str]) -> Export:
    headers = ["company", "customer_ref", "customer_name", "currency", *bucket_names, "total"]
    rows = [[c.company, c.reference, c.name, c.currency, *c.buckets, c.total] for c in customers]
    return Export("customers-aging", headers, rows)
