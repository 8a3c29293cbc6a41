"""Writes of cash application: loading bank statements (with returns undone), applying and unapplying matches.

Each public function takes keyword-only arguments, runs in one transaction and leaves audit rows.
Posting to the ledger goes through relance.ledger.services (payment_upsert, allocation_create,
allocation_reverse, document_close), never around it.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
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
    undone = 0
    if payment is not None and line.amount < 0:
        reason = RETURN_REASON.format(
            reason=f" ({line.return_reason})" if line.return_reason else "", line=line.pk, day=line.booking_date
        )
        if original is not None and original.status == LineStatus.APPLIED:
            undone += len(_reverse_application(actor, original, reason, line.booking_date))  # write-offs too
        if payment.returned_on is None:
            # the money went back out: the payment's other allocations are undone and it is no longer cash to apply
            live = Allocation.objects.filter(payment=payment, reverses__isnull=True, reversed_by__isnull=True)
            undone += live.count()
            ledger.payment_return(actor=actor, payment=payment, date=line.booking_date, reason=reason)
    if original is not None and original.status != LineStatus.REVERSAL:
        BankLine.objects.filter(pk=original.pk).update(status=LineStatus.REVERSAL, updated_at=clock.now())
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


# --- matching and application -------------------------------------------------------------------------------

AUTO_SOURCE = "cashapp"
PAYMENT_TIED = (
    "The payment {reference} of this line already belongs to customer {customer} (its history ties it): "
    "apply it to that customer, or ask an administrator to move it."
)
NOT_OPEN = "Document {number} is not an open invoice of customer {customer}."
OVER_LINE = "The amounts ({total}) add up to more than the payment ({amount} {currency})."
ALREADY_APPLIED = "This bank line is already applied; unapply it first."
NOT_APPLIED = "This bank line is not applied."
NOT_A_CREDIT = "Only incoming payments are applied to invoices."
MATCHABLE = (LineStatus.NEW, LineStatus.REVIEW, LineStatus.UNIDENTIFIED)


def config_for(company: Company) -> Any:
    from .domain import MatchConfig
    from .models import MatchSettings

    settings_row = MatchSettings.objects.filter(company=company).first()
    return MatchConfig.from_dict(settings_row.config if settings_row else {})


@transaction.atomic
def match_settings_set(*, actor: Any, company: Company, config: dict[str, Any]) -> Any:
    """Save a company's matching settings after checking them (ValidationError says what is wrong)."""
    from .domain import MatchConfig
    from .models import MatchSettings

    try:
        checked = MatchConfig.from_dict(config)
    except ValueError as exc:
        raise errors.ValidationError(f"Matching settings: {exc}.", field="config")
    row, _ = MatchSettings.objects.get_or_create(company=company)
    before = dict(row.config)
    row.config = {k: v for k, v in checked.as_dict().items() if k in config}
    row.save()
    audit.record(actor=actor, action="cashapp.settings", obj=row, changes={"before": before, "after": row.config})
    return row


OPEN_ITEMS_CHUNK = 20_000


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a book is built or a batch matched: they make millions of small
    objects without cycles (freed by reference counting anyway), and each full collection would walk all of them
    again — a third of the time at a million open items. Restored on exit, as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def open_items(company: Company, *, before_payments: bool = False) -> Iterator[Any]:
    """The company's open invoices as :class:`domain.OpenItem` values, read with one raw query in chunks: no model
    instances and no per-value converters (a million items in a few seconds). ``before_payments`` reads every
    invoice as if nothing were paid (its open amount is its amount): the benchmark's book.

    Amounts come back as exact decimals: SQLite renders them with three decimals (the column's precision) as
    text, PostgreSQL returns ``numeric`` as Decimal."""
    from relance.core.vocab import DocumentType
    from relance.ledger.models import Document

    from .domain import OpenItem

    qn = connection.ops.quote_name
    sqlite = connection.vendor == "sqlite"

    def amount(column: str) -> str:
        return f"printf('%%.3f', {qn(column)})" if sqlite else qn(column)

    columns = ["id", "number", "customer_id", "currency", "issue_date", "due_date"]
    select = ", ".join(qn(c) for c in columns)
    open_amount = amount("amount") if before_payments else amount("open_amount")
    sql = (
        f"SELECT {select}, {open_amount}, {amount('amount')} FROM {qn(Document._meta.db_table)} "  # noqa: S608
        f"WHERE {qn('company_id')} = %s AND {qn('type')} = %s"
        + ("" if before_payments else f" AND {qn('open_amount')} > 0")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [company.pk, DocumentType.INVOICE.value])
        while rows := cursor.fetchmany(OPEN_ITEMS_CHUNK):
            for pk, number, customer_id, currency, issue, due, open_, full in rows:
                if isinstance(issue, str):
                    issue, due = dt.date.fromisoformat(issue), dt.date.fromisoformat(due)
                yield OpenItem(pk, number, customer_id, currency, Decimal(open_), issue, due, Decimal(full))


# Sources of RF ``S`` references (sets of documents named by one reference): functions of a company returning
# {selection id: document ids}. The customer portal registers its payment selections here (portal/apps.py).
SELECTION_SOURCES: list[Any] = []


def register_selection_source(source: Any) -> None:
    if source not in SELECTION_SOURCES:
        SELECTION_SOURCES.append(source)


def book_for(company: Company, *, before_payments: bool = False) -> Any:
    """The company's open invoices, customers and learnt payer accounts, as the matcher sees them (every invoice
    open for its full amount with ``before_payments``: the benchmark's book)."""
    from relance.ledger.models import Customer

    from .domain import Book, Payer
    from .models import PayerAccount

    payers = (
        Payer(pk, reference, name)
        for pk, reference, name in Customer.objects.filter(company=company)
        .values_list("pk", "reference", "name")
        .iterator(chunk_size=20000)
    )
    ibans = {
        iban: (customer_id, times)
        for iban, customer_id, times in PayerAccount.objects.filter(company=company).values_list(
            "iban", "customer_id", "confirmations"
        )
    }
    selections: dict[int, list[int]] = {}
    for source in SELECTION_SOURCES:
        selections.update(source(company))
    with gc_paused():
        return Book.build(open_items(company, before_payments=before_payments), payers, ibans, selections)


def converter() -> Any:
    """Conversion at the reference rates of the day (ledger.rates), memoised for one matching run."""
    from relance.ledger import rates

    cache: dict[tuple[str, dt.date], Decimal | None] = {}

    def rate(currency: str, day: dt.date) -> Decimal | None:
        if (currency, day) not in cache:
            try:
                cache[(currency, day)] = rates.rate_on(currency, day)
            except rates.RateMissing:
                cache[(currency, day)] = None
        return cache[(currency, day)]

    def convert(amount: Decimal, source: str, target: str, day: dt.date) -> Decimal | None:
        from relance.core.money import quantize

        a, b = rate(source, day), rate(target, day)
        if a is None or b is None:
            return None
        return quantize(amount * rates.cross_rate(a, b), target)

    return convert


def facts(line: BankLine) -> Any:
    from .domain import Line
    from .parsers.base import INVALID_IBAN

    text = " ".join(p for p in (line.remittance, line.additional_info, line.end_to_end_id) if p)
    return Line(
        id=line.pk,
        amount=line.amount,
        currency=line.currency,
        booking_date=line.booking_date,
        counterparty_name=line.counterparty_name,
        counterparty_iban="" if INVALID_IBAN in (line.flags or []) else line.counterparty_iban,
        text=text,
        creditor_reference=line.creditor_reference,
    )


def lines_match(
    *, actor: Any, line_ids: list[int] | None = None, company: Company | None = None, apply: bool = True
) -> dict[str, int]:
    """Match the incoming lines not yet applied; apply the sure ones (each in its own transaction), keep the
    ranked proposals of the others for review. Returns counts."""
    from . import domain

    qs = BankLine.objects.filter(status__in=MATCHABLE, amount__gt=0, payment__isnull=True)
    if line_ids is not None:
        qs = qs.filter(pk__in=line_ids)
    if company is not None:
        qs = qs.filter(company=company)
    counts = {"applied": 0, "review": 0, "unidentified": 0}
    for company_id in sorted(set(qs.values_list("company_id", flat=True))):
        comp = Company.objects.get(pk=company_id)
        lines = {x.pk: x for x in qs.filter(company_id=company_id)}
        book, config = book_for(comp), config_for(comp)
        with gc_paused():
            results = domain.match_lines([facts(x) for x in lines.values()], book, config, convert=converter())
        for result in results:
            line = lines[result.line_id]
            best = result.best
            with transaction.atomic():
                line.proposal = {"decision": result.decision, "proposals": [p.as_dict() for p in result.proposals]}
                line.confidence = best.confidence if best else None
                line.status = (
                    LineStatus.REVIEW if best and result.decision != domain.UNIDENTIFIED else (LineStatus.UNIDENTIFIED)
                )
                line.customer_id = best.customer_id if best and result.decision != domain.UNIDENTIFIED else None
                line.save(update_fields=["proposal", "confidence", "status", "customer", "updated_at"])
                if apply and result.decision == domain.AUTO and best is not None:
                    line_apply(actor=actor, line=line, proposal=best, auto=True)
                    counts["applied"] += 1
                elif result.decision == domain.UNIDENTIFIED:
                    counts["unidentified"] += 1
                else:
                    counts["review"] += 1
    return counts


def _method(line: BankLine) -> str:
    from relance.core.vocab import PaymentMethod

    code = line.transaction_code.upper()
    if "DD" in code or code in ("B1", "B2"):
        return PaymentMethod.DIRECT_DEBIT
    if "CHK" in code or "CHQ" in code or code == "CHECK":
        return PaymentMethod.CHECK
    return PaymentMethod.TRANSFER


@transaction.atomic
def line_apply(*, actor: Any, line: BankLine, proposal: Any, auto: bool = False, learn: bool = False) -> BankLine:
    """Book a line as a payment of its customer and allocate it as proposed; a difference within tolerance closes
    the document as a write-off with its reason. Idempotent: the payment is keyed to the line."""
    from relance.ledger.models import NON_CASH_SOURCES, Customer, Document

    from . import domain

    line = BankLine.objects.select_for_update().get(pk=line.pk)
    if line.status == LineStatus.APPLIED:
        raise errors.ValidationError(ALREADY_APPLIED, field="line")
    if line.amount <= 0:
        raise errors.ValidationError(NOT_A_CREDIT, field="line")
    customer = Customer.objects.filter(pk=proposal.customer_id, company_id=line.company_id).first()
    if customer is None:
        raise errors.ValidationError("Choose a customer of this company.", field="customer")
    if line.payment_id is not None:
        payment = Payment.objects.get(pk=line.payment_id)
        if payment.returned_on is not None:
            raise errors.ValidationError(
                ledger.PAYMENT_RETURNED.format(reference=payment.reference, day=payment.returned_on), field="line"
            )
        if payment.customer_id != customer.pk:
            if payment.allocations.filter(reverses__isnull=True, reversed_by__isnull=True).exists():
                raise errors.ValidationError(
                    PAYMENT_TIED.format(reference=payment.reference, customer=payment.customer.reference),
                    field="customer",
                )
            # unapplied from the wrong payer: the same payment moves to the right one (its history stays)
            payment, _ = ledger.payment_upsert(
                actor=actor,
                company=line.company,
                customer=customer,
                reference=payment.reference,
                date=payment.date,
                currency=payment.currency,
                amount=payment.amount,
                method=payment.method,
                bank_reference=payment.bank_reference,
                payer_name=payment.payer_name,
                source=payment.source,
            )
    else:
        payment, _ = ledger.payment_upsert(
            actor=actor,
            company=line.company,
            customer=customer,
            reference=f"BANK-{line.dedupe_key[:24]}",
            date=line.booking_date,
            currency=proposal.currency,
            amount=proposal.amount,
            method=_method(line),
            bank_reference=line.end_to_end_id or line.bank_reference,
            payer_name=line.counterparty_name,
            source=AUTO_SOURCE,
        )
    allocations, write_offs = [], []
    for share in proposal.shares:
        doc = Document.objects.filter(pk=share.document_id, customer=customer).first()
        if doc is None:
            raise errors.ValidationError(
                NOT_OPEN.format(number=share.number, customer=customer.reference), field="documents"
            )
        allocation = ledger.allocation_create(
            actor=actor, target=doc, payment=payment, amount=share.amount, date=line.booking_date, source=AUTO_SOURCE
        )
        allocations.append(allocation.pk)
    if proposal.difference_kind in domain.WRITE_OFF_KINDS and proposal.difference_document:
        doc = Document.objects.get(pk=proposal.difference_document)
        if doc.open_amount > 0:
            labels = {domain.BANK_FEES: "bank fees", domain.DISCOUNT: "early-payment discount",
                      domain.EXCHANGE: "exchange difference"}  # fmt: skip
            closure = ledger.document_close(
                actor=actor,
                document=doc,
                date=line.booking_date,
                source=NON_CASH_SOURCES[1],
                reason=f"{labels[proposal.difference_kind]} on bank line {line.pk}",
            )
            write_offs.append(closure.pk)
    line.payment, line.customer, line.status = payment, customer, LineStatus.APPLIED
    line.confidence = proposal.confidence
    line.proposal = {
        **(line.proposal or {}),
        "applied": {
            "proposal": proposal.as_dict(),
            "payment": payment.pk,
            "allocations": allocations,
            "write_offs": write_offs,
            "auto": auto,
            "by": audit.actor_label(actor),
        },
    }
    line.save()
    audit.record(
        actor=actor,
        action="bankline.apply",
        obj=line,
        changes={"payment": payment.reference, "allocations": allocations, "write_offs": write_offs, "auto": auto},
        message="; ".join(proposal.reasons),
    )
    if learn:
        payer_account_learn(actor=actor, line=line, customer=customer)
    return line


@transaction.atomic
def line_unapply(*, actor: Any, line: BankLine, reason: str = "") -> BankLine:
    """Undo an application exactly: reverse the allocations and write-offs it made. The payment stays (the cash
    came in), unallocated; the line goes back to review."""
    line = BankLine.objects.select_for_update().get(pk=line.pk)
    applied = (line.proposal or {}).get("applied")
    if line.status != LineStatus.APPLIED or not applied:
        raise errors.ValidationError(NOT_APPLIED, field="line")
    undone = _reverse_application(actor, line, reason or f"Unapplied bank line {line.pk}")
    line.proposal = {**line.proposal, "applied": None, "unapplied": applied}
    line.status = LineStatus.REVIEW
    line.save(update_fields=["proposal", "status", "updated_at"])
    audit.record(actor=actor, action="bankline.unapply", obj=line, changes={"reversed": undone}, message=reason)
    return line


def _reverse_application(actor: Any, line: BankLine, reason: str, day: dt.date | None = None) -> list[int]:
    applied = (line.proposal or {}).get("applied") or {}
    ids = list(applied.get("write_offs", [])) + list(applied.get("allocations", []))
    undone = []
    for allocation in Allocation.objects.filter(pk__in=ids, reversed_by__isnull=True).order_by("-id"):
        ledger.allocation_reverse(actor=actor, allocation=allocation, date=day or clock.today(), reason=reason)
        undone.append(allocation.pk)
    return undone


@transaction.atomic
def line_confirm(
    *, actor: Any, line: BankLine, customer_id: int, shares: list[tuple[int, Decimal]], reasons: tuple[str, ...] = ()
) -> BankLine:
    """A collector's decision: this customer, these documents and amounts (a suggestion confirmed, edited or
    split). Applied at once; confirming teaches the payer's IBAN → customer."""
    from relance.ledger.models import Customer, Document

    from . import domain

    line = BankLine.objects.select_for_update().get(pk=line.pk)
    customer = Customer.objects.filter(pk=customer_id, company_id=line.company_id).first()
    if customer is None:
        raise errors.ValidationError("Choose a customer of this company.", field="customer")
    docs = {d.pk: d for d in Document.objects.filter(pk__in=[pk for pk, _ in shares], customer=customer)}
    chosen: list[domain.Share] = []
    currency = ""
    for pk, amount in shares:
        doc = docs.get(pk)
        if doc is None or doc.open_amount <= 0:
            raise errors.ValidationError(NOT_OPEN.format(number=pk, customer=customer.reference), field="documents")
        if amount <= 0 or amount > doc.open_amount:
            raise errors.ValidationError(
                f"{doc.number}: the amount must be above 0 and at most its open amount ({doc.open_amount}).",
                field="documents",
            )
        currency = currency or doc.currency
        if doc.currency != currency:
            raise errors.ValidationError("Choose documents of one currency.", field="documents")
        chosen.append(domain.Share(doc.pk, doc.number, amount))
    currency = currency or line.currency
    amount = line.amount
    rate = None
    if currency != line.currency:
        converted = converter()(line.amount, line.currency, currency, line.booking_date)
        if converted is None:
            raise errors.ValidationError(
                f"No {line.currency}/{currency} rate on {line.booking_date}.", field="currency"
            )
        amount, rate = converted, converted / line.amount
    total = sum((s.amount for s in chosen), Decimal(0))
    if total > amount:
        raise errors.ValidationError(OVER_LINE.format(total=total, amount=amount, currency=currency), field="documents")
    proposal = domain.Proposal(
        customer_id=customer.pk,
        shares=tuple(chosen),
        confidence=Decimal(1),
        reasons=reasons or ("Confirmed by a collector.",),
        rule="confirmed",
        currency=currency,
        amount=amount,
        difference=amount - total,
        difference_kind=domain.OVERPAYMENT if amount > total else domain.NONE,
        rate=rate,
    )
    return line_apply(actor=actor, line=line, proposal=proposal, learn=True)


@transaction.atomic
def payer_account_learn(*, actor: Any, line: BankLine, customer: Any) -> Any:
    """Remember that the line's payer account belongs to ``customer`` (moved if it was another's)."""
    from .models import PayerAccount
    from .parsers.base import INVALID_IBAN

    if not line.counterparty_iban or INVALID_IBAN in (line.flags or []):
        return None
    row = (
        PayerAccount.objects.select_for_update().filter(company_id=line.company_id, iban=line.counterparty_iban).first()
    )
    if row is None:
        row = PayerAccount.objects.create(
            company_id=line.company_id,
            iban=line.counterparty_iban,
            customer=customer,
            created_by=actor if isinstance(actor, User) else None,
        )
        audit.record(actor=actor, action="payeraccount.create", obj=row, changes={"iban": row.iban})
        return row
    if row.customer_id != customer.pk:
        before = row.customer_id
        row.customer, row.confirmations = customer, 1
        row.save()
        audit.record(actor=actor, action="payeraccount.move", obj=row, changes={"customer": [before, customer.pk]})
        return row
    row.confirmations += 1
    row.save(update_fields=["confirmations", "updated_at"])
    return row
