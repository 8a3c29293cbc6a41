"""Writes of cash application: loading bank statements (with returns undone), applying and unapplying matches.

Each public function takes keyword-only arguments, runs in one transaction and leaves audit rows.
Posting to the ledger goes through relance.ledger.services (payment_upsert, allocation_create,
allocation_reverse, document_close), never around it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.core import audit, clock, errors
from relance.ingest.models import ImportRun
from relance.ledger import services as ledger
from relance.ledger.models import Allocation, Payment
from relance.orgs.models import BankAccount, Company, User

from . import parsers
from .models import BankLine, LineStatus, Statement

# Messages (tests import them)
UNKNOWN_ACCOUNT = (
    "{file}: statement {statement}: account {account} is not registered to any company. Register it as a bank "
    "account of its company, or give --company CODE."
)
ACCOUNT_OF_OTHER_COMPANY = (
    "{file}: statement {statement}: account {account} is registered to company {other}, not {company}."
)
UNREADABLE = "{file}: cannot be read ({reason})."
RETURN_REASON = "Returned by the bank{reason} (bank line {line} of {day})."

REVERSAL_LOOKBACK_DAYS = 120


@dataclass
class StatementSummary:
    statement_id: str
    format: str
    account: str
    company: str
    currency: str
    opening: Decimal | None
    closing: Decimal | None
    lines: int
    created: int
    duplicates: int
    reversals: int
    reversals_linked: int
    allocations_reversed: int
    balance_checked: bool | None  # opening + lines = closing (None when a balance is missing)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class StatementImportResult:
    file: str
    format: str = ""
    status: str = "loaded"  # loaded | refused
    error: str = ""
    statements: list[StatementSummary] = field(default_factory=list)
    run_id: int | None = None
    new_line_ids: list[int] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        keys = ("lines", "created", "duplicates", "reversals", "reversals_linked", "allocations_reversed")
        return {k: sum(getattr(s, k) for s in self.statements) for k in keys}

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "status": self.status,
            "error": self.error or None,
            "counts": self.counts,
            "statements": [s.as_dict() for s in self.statements],
            "import_id": self.run_id,
        }


def _digest(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def _normal_text(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())[:200]


def line_base_key(account: str, line: parsers.ParsedLine) -> str:
    """What identifies a movement on an account: booking date, amount and the bank's reference for it (bank
    reference, else entry reference, else end-to-end id; without any, the counterparty and texts)."""
    reference = line.bank_reference or line.entry_reference or line.end_to_end_id
    if not reference:
        reference = "text:" + _normal_text(f"{line.counterparty_name}{line.remittance}{line.additional_info}")
    return "|".join([account, line.booking_date.isoformat(), f"{line.amount:.3f}", line.currency, reference])


def dedupe_keys(account: str, lines: list[parsers.ParsedLine]) -> list[str]:
    """A stable key per line; true duplicates within one statement are told apart by their occurrence number."""
    seen: Counter[str] = Counter()
    keys = []
    for line in lines:
        base = line_base_key(account, line)
        seen[base] += 1
        keys.append(_digest(base, seen[base]))
    return keys


def _statement_key(st: parsers.ParsedStatement) -> str:
    first = min((x.booking_date for x in st.lines), default="")
    last = max((x.booking_date for x in st.lines), default="")
    total = sum((x.amount for x in st.lines), Decimal(0))
    return _digest(
        st.format,
        st.account_iban or st.account_id,
        st.statement_id,
        st.opening and (st.opening.date, st.opening.amount),
        st.closing and (st.closing.date, st.closing.amount),
        first,
        last,
        len(st.lines),
        f"{total:.3f}",
    )


def _company_for(st: parsers.ParsedStatement, file: str, company: Company | None) -> tuple[Company, BankAccount | None]:
    candidates = {st.account_iban, st.account_id, "".join(st.account_id.split()).upper()} - {""}
    account = BankAccount.objects.select_related("company").filter(iban__in=candidates).first()
    label = st.account_iban or st.account_id or "(none)"
    if account is not None:
        if company is not None and account.company_id != company.pk:
            raise errors.ValidationError(
                ACCOUNT_OF_OTHER_COMPANY.format(
                    file=file,
                    statement=st.statement_id,
                    account=label,
                    other=account.company.code,
                    company=company.code,
                ),
                field="company",
            )
        return account.company, account
    if company is None:
        raise errors.ValidationError(
            UNKNOWN_ACCOUNT.format(file=file, statement=st.statement_id or "?", account=label), field="company"
        )
    return company, None


def _line_row(company: Company, statement: Statement, seq: int, key: str, x: parsers.ParsedLine) -> BankLine:
    if x.is_reversal:
        status = LineStatus.REVERSAL
    elif x.amount > 0:
        status = LineStatus.NEW
    else:
        status = LineStatus.OUTGOING
    return BankLine(
        company=company,
        statement=statement,
        sequence=seq,
        dedupe_key=key,
        amount=x.amount,
        currency=x.currency or statement.currency,
        booking_date=x.booking_date,
        value_date=x.value_date,
        counterparty_name=x.counterparty_name[:200],
        counterparty_iban=x.counterparty_iban[:40],
        counterparty_bic=x.counterparty_bic[:15],
        counterparty_account=x.counterparty_account[:70],
        remittance=x.remittance,
        creditor_reference=x.creditor_reference[:140],
        additional_info=x.additional_info,
        end_to_end_id=x.end_to_end_id[:140],
        bank_reference=x.bank_reference[:140],
        entry_reference=x.entry_reference[:140],
        instruction_id=x.instruction_id[:140],
        mandate_id=x.mandate_id[:140],
        transaction_code=x.transaction_code[:40],
        is_reversal=x.is_reversal,
        return_reason=x.return_reason[:35],
        flags=list(x.flags),
        raw=x.raw,
        status=status,
    )


def statement_import(
    *, actor: Any, path: Path, company: str = "", display_name: str | None = None
) -> StatementImportResult:
    """Load every statement of one bank file. All or nothing for the file; lines already loaded are skipped."""
    path = Path(path)
    name = display_name or str(path)
    result = StatementImportResult(file=name)
    data = path.read_bytes()
    try:
        statements = parsers.parse(data, file=name)
    except parsers.StatementParseError as exc:
        raise errors.ValidationError(str(exc), field="file")
    result.format = statements[0].format if statements else ""
    forced = None
    if company:
        from relance.orgs.services import company_by_code

        forced = company_by_code(company)
    resolved = [_company_for(st, name, forced) for st in statements]
    sha = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        run = ImportRun.objects.create(
            kind="statement",
            file_name=name[:300],
            sha256=sha,
            company=resolved[0][0] if len({c.pk for c, _ in resolved}) == 1 else None,
            mode="atomic",
            started_at=clock.now(),
            actor=actor if isinstance(actor, User) else None,
            actor_label=audit.actor_label(actor),
        )
        for st, (comp, bank_account) in zip(statements, resolved, strict=True):
            result.statements.append(_load_statement(actor, st, comp, bank_account, run, name, sha, result))
        run.status, run.counts, run.finished_at = "loaded", result.counts, clock.now()
        run.save()
        if result.counts["created"]:
            audit.record(
                actor=actor,
                action="import.statement",
                obj=run,
                changes=result.counts,
                message=name,
                company_id=run.company_id,
            )
    result.run_id = run.pk
    return result


def _load_statement(
    actor: Any,
    st: parsers.ParsedStatement,
    company: Company,
    bank_account: BankAccount | None,
    run: ImportRun,
    name: str,
    sha: str,
    result: StatementImportResult,
) -> StatementSummary:
    account = st.account_iban or st.account_id
    statement, _ = Statement.objects.get_or_create(
        key=_statement_key(st),
        defaults={
            "company": company,
            "bank_account": bank_account,
            "import_run": run,
            "format": st.format,
            "version": st.version[:40],
            "statement_id": st.statement_id[:140],
            "account_id": st.account_id[:70],
            "account_iban": st.account_iban,
            "currency": st.currency or (st.lines[0].currency if st.lines else company.currency),
            "opening_balance": st.opening.amount if st.opening else None,
            "opening_date": st.opening.date if st.opening else None,
            "closing_balance": st.closing.amount if st.closing else None,
            "closing_date": st.closing.date if st.closing else None,
            "file_name": name[:300],
            "sha256": sha,
            "raw": st.raw,
        },
    )
    keys = dedupe_keys(account, st.lines)
    existing = set(BankLine.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    rows = [
        _line_row(company, statement, seq, key, x)
        for seq, (key, x) in enumerate(zip(keys, st.lines, strict=True), start=1)
        if key not in existing
    ]
    BankLine.objects.bulk_create(rows, batch_size=1000)
    created = list(BankLine.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows]).order_by("sequence"))
    result.new_line_ids.extend(x.pk for x in created)
    linked = undone = 0
    for line in created:
        if line.is_reversal:
            found, n = reversal_link(actor=actor, line=line)
            linked += int(found)
            undone += n
    balanced = None
    if st.opening is not None and st.closing is not None and st.opening.currency == st.closing.currency:
        balanced = st.opening.amount + sum((x.amount for x in st.lines), Decimal(0)) == st.closing.amount
    return StatementSummary(
        statement_id=st.statement_id,
        format=st.format,
        account=account,
        company=company.code,
        currency=statement.currency,
        opening=st.opening.amount if st.opening else None,
        closing=st.closing.amount if st.closing else None,
        lines=len(st.lines),
        created=len(rows),
        duplicates=len(st.lines) - len(rows),
        reversals=sum(1 for x in st.lines if x.is_reversal),
        reversals_linked=linked,
        allocations_reversed=undone,
        balance_checked=balanced,
    )


def _original_line(line: BankLine) -> BankLine | None:
    """The earlier movement a return or reversal undoes: by end-to-end id, else mandate/instruction id, else the
    counterparty's IBAN — always the opposite amount, in the same company, not already reversed."""
    base = (
        BankLine.objects.filter(company_id=line.company_id, currency=line.currency, amount=-line.amount)
        .exclude(pk=line.pk)
        .filter(booking_date__lte=line.booking_date)
        .filter(booking_date__gte=line.booking_date - dt.timedelta(days=REVERSAL_LOOKBACK_DAYS))
        .exclude(reversed_by__isnull=False)
        .order_by("-booking_date", "-id")
    )
    for field_name in ("end_to_end_id", "instruction_id", "mandate_id"):
        value = getattr(line, field_name)
        if value:
            found = base.filter(**{field_name: value}).first()
            if found is not None:
                return found
    if line.counterparty_iban:
        candidates = list(base.filter(counterparty_iban=line.counterparty_iban)[:2])
        if len(candidates) == 1:
            return candidates[0]
    return None


def _original_payment(line: BankLine) -> Payment | None:
    """A ledger payment (collected direct debit, registered transfer) whose bank reference is the line's
    end-to-end or instruction id, for the same amount."""
    refs = [r for r in (line.end_to_end_id, line.instruction_id) if r]
    if not refs:
        return None
    return (
        Payment.objects.filter(company_id=line.company_id, amount=abs(line.amount))
        .filter(Q(bank_reference__in=refs) | Q(reference__in=refs))
        .order_by("-date", "-id")
        .first()
    )


@transaction.atomic
def reversal_link(*, actor: Any, line: BankLine) -> tuple[bool, int]:
    """Link a return or reversal to what it undoes and, when money goes back out for a payment received, reverse
    that payment's allocations (its documents reopen). Returns (found, allocations reversed)."""
    line = BankLine.objects.select_for_update().get(pk=line.pk)
    original = _original_line(line)
    payment = original.payment if original is not None and original.payment_id else None
    if payment is None:
        payment = _original_payment(line)
    if original is None and payment is None:
        return False, 0
    line.reverses = original
    line.reversed_payment = payment
    line.status = LineStatus.REVERSAL
    if payment is not None and payment.customer_id and line.customer_id is None:
        line.customer_id = payment.customer_id
    line.save(update_fields=["reverses", "reversed_payment", "status", "customer", "updated_at"])
    if original is not None and original.status != LineStatus.REVERSAL:
        BankLine.objects.filter(pk=original.pk).update(status=LineStatus.REVERSAL, updated_at=clock.now())
    undone = 0
    if payment is not None and line.amount < 0:
        reason = RETURN_REASON.format(
            reason=f" ({line.return_reason})" if line.return_reason else "", line=line.pk, day=line.booking_date
        )
        live = Allocation.objects.filter(payment=payment, reverses__isnull=True, reversed_by__isnull=True)
        for allocation in live.order_by("id"):
            ledger.allocation_reverse(actor=actor, allocation=allocation, date=line.booking_date, reason=reason)
            undone += 1
    audit.record(
        actor=actor,
        action="bankline.reversal",
        obj=line,
        changes={
            "reverses": original.pk if original else None,
            "payment": payment.reference if payment else None,
            "allocations_reversed": undone,
            "reason": line.return_reason,
        },
        customer_id=line.customer_id,
        company_id=line.company_id,
    )
    return True, undone
