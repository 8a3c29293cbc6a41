"""Measuring the matcher on a labelled statement, writing nothing.

Labels (CSV): ``bank_reference`` (a line's bank reference or end-to-end id) and ``invoice_numbers``
(semicolon-separated; empty means the line should stay unmatched). A line counts as correct when it was
applied automatically to exactly the labelled invoices.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from relance.core import errors

from . import domain, parsers

LABELS_HEADER = "{file}: the labels need the columns bank_reference and invoice_numbers (got {columns})."


@dataclass
class Evaluation:
    lines: int = 0  # incoming credits evaluated
    labelled: int = 0
    auto: int = 0
    review: int = 0
    unidentified: int = 0
    auto_labelled: int = 0
    correct_auto: int = 0
    positive_labels: int = 0
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> str | None:
            return str((Decimal(a) / Decimal(b)).quantize(Decimal("0.0001"), ROUND_HALF_UP)) if b else None

        return {
            "precision": ratio(self.correct_auto, self.auto_labelled),
            "recall": ratio(self.correct_auto, self.positive_labels),
            "auto_share": ratio(self.auto, self.lines),
            "review_share": ratio(self.review, self.lines),
            "unidentified_share": ratio(self.unidentified, self.lines),
            "lines": self.lines,
            "labelled": self.labelled,
            "automatic": self.auto,
            "correct_automatic": self.correct_auto,
            "mistakes": self.mistakes[:50],
        }


def read_labels(text: str, *, file: str = "<labels>") -> dict[str, frozenset[str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "bank_reference" not in columns or "invoice_numbers" not in columns:
        raise errors.ValidationError(LABELS_HEADER.format(file=file, columns=", ".join(columns) or "none"))
    out = {}
    for row in reader:
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if row["bank_reference"]:
            out[row["bank_reference"]] = frozenset(n.strip() for n in row["invoice_numbers"].split(";") if n.strip())
    return out


def facts(index: int, line: parsers.ParsedLine) -> domain.Line:
    from .parsers.base import INVALID_IBAN

    text = " ".join(p for p in (line.remittance, line.additional_info, line.end_to_end_id) if p)
    return domain.Line(
        id=index,
        amount=line.amount,
        currency=line.currency,
        booking_date=line.booking_date,
        counterparty_name=line.counterparty_name,
        counterparty_iban="" if INVALID_IBAN in line.flags else line.counterparty_iban,
        text=text,
        creditor_reference=line.creditor_reference,
    )


def evaluate(
    lines: Iterable[parsers.ParsedLine],
    labels: dict[str, frozenset[str]],
    book: domain.Book,
    config: domain.MatchConfig,
    *,
    convert: domain.Converter | None = None,
) -> Evaluation:
    credits = [x for x in lines if x.amount > 0 and not x.is_reversal]
    by_id = dict(enumerate(credits))
    numbers = {item.id: item.number for item in book.items.values()}
    from .services import gc_paused

    with gc_paused():
        results = domain.match_lines([facts(i, x) for i, x in by_id.items()], book, config, convert=convert)
    ev = Evaluation(lines=len(credits), positive_labels=sum(1 for v in labels.values() if v))
    for result in results:
        line = by_id[result.line_id]
        label = labels.get(line.bank_reference, labels.get(line.end_to_end_id))
        ev.auto += result.decision == domain.AUTO
        ev.review += result.decision == domain.REVIEW
        ev.unidentified += result.decision == domain.UNIDENTIFIED
        if label is None:
            continue
        ev.labelled += 1
        if result.decision != domain.AUTO or result.best is None:
            continue
        ev.auto_labelled += 1
        got = frozenset(numbers.get(s.document_id, s.number) for s in result.best.shares)
        if got == label and label:
            ev.correct_auto += 1
        else:
            ev.mistakes.append(
                {
                    "bank_reference": line.bank_reference or line.end_to_end_id,
                    "expected": sorted(label),
                    "applied": sorted(got),
                    "reasons": list(result.best.reasons),
                }
            )
    return ev


def evaluate_file(*, path: Path, labels_path: Path, company: str = "") -> dict[str, Any]:
    """Parse the statement, match its credits against the loaded ledger (read only), compare with the labels."""
    from relance.orgs.models import BankAccount
    from relance.orgs.services import company_by_code

    from . import services

    try:
        statements = parsers.parse(Path(path).read_bytes(), file=str(path))
    except parsers.StatementParseError as exc:
        raise errors.ValidationError(str(exc), field="file")
    labels = read_labels(Path(labels_path).read_text(encoding="utf-8"), file=str(labels_path))
    out: dict[str, Any] = {"file": str(path), "labels": str(labels_path)}
    total = Evaluation()
    for st in statements:
        forced = company_by_code(company) if company else None
        account = BankAccount.objects.filter(iban__in={st.account_iban, st.account_id} - {""}).first()
        comp = account.company if account is not None else forced
        if comp is None:
            raise errors.ValidationError(
                services.UNKNOWN_ACCOUNT.format(file=path, statement=st.statement_id, account=st.account_id),
                field="company",
            )
        ev = evaluate(
            st.lines, labels, services.book_for(comp), services.config_for(comp), convert=services.converter()
        )
        for key in ("lines", "labelled", "auto", "review", "unidentified", "auto_labelled", "correct_auto"):
            setattr(total, key, getattr(total, key) + getattr(ev, key))
        total.mistakes.extend(ev.mistakes)
    total.positive_labels = sum(1 for v in labels.values() if v)
    out.update(total.as_dict())
    return out
