"""The French FEC (fichier des écritures comptables, LPF art. A47 A-1) as receivables.

Three layers, as everywhere in ingest (docs/imports-fec-einvoice.md has the rules in full):

* :func:`parse_fec` (pure): bytes in, :class:`FecLine` records and :class:`RowError`s out. Tab or pipe
  separated, UTF-8 (with or without BOM) or Windows-1252, amounts with a decimal comma, dates YYYYMMDD.
* :func:`plan_fec` and :func:`settle` (pure): the entries become customer accounts (class 411), invoices
  and credit notes (sales entries), payments (treasury entries) and opening items (à-nouveaux); the
  lettering (EcritureLet, DateLet) becomes allocations, oldest first, never beyond what is open.
* :func:`import_fec` (service): loads a plan through the ledger services in one transaction; an
  unbalanced or unreadable entry refuses the file, or with ``partial`` is skipped and reported.
  Natural keys (document number, payment reference) make a re-import change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from relance.core import errors
from relance.core.money import is_currency, quantum

from .readers import detect_encoding
from .rows import BadValue, RowError, parse_decimal

COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
# Some exports give one signed column pair instead of Debit/Credit (A47 A-1 allows Montant + Sens).
AMOUNT_ALTERNATIVE = ("Montant", "Sens")

CUSTOMER_CLASS = "411"
SALES_PREFIXES = ("70", "4457")  # revenue (70x) and output VAT (4457x): a sales entry
TAX_PREFIX = "4457"
TREASURY_METHODS = (("511", "check"), ("53", "cash"), ("51", "transfer"))  # first match wins
OPENING_JOURNALS = frozenset({"AN", "ANO", "RAN", "AN0", "ANX", "OUV"})
OPENING_LABEL = re.compile(r"(?i)nouveau|ouverture|opening")
DEFAULT_COUNTRY = "FR"
NUMBER_MAX = 50

# Messages (rule 10)
NOT_A_FEC = (
    "{file}: not a FEC file: the first line must name the 18 FEC columns (JournalCode, JournalLib, EcritureNum, "
    "EcritureDate, CompteNum, …, Idevise) separated by tabs or |; missing: {missing}."
)
EMPTY_FILE = "{file}: the file is empty."
BAD_DATE = "not a date in the form YYYYMMDD"
BAD_AMOUNT = "not an amount (use a decimal comma, e.g. 1234,56)"
REQUIRED = "is required"
TOO_MANY_CELLS = "{cells} cells for {columns} columns (is the separator right?)"
UNBALANCED = "entry {journal} {number} is unbalanced: debits {debit} ≠ credits {credit} (lines {first}–{last})"
BAD_ENTRY = "entry {journal} {number} skipped: {reason}"
BAD_CURRENCY = "not an ISO 4217 currency code"


@dataclass(frozen=True, slots=True)
class FecLine:
    row: int  # the line in the file (the header is line 1)
    journal: str
    journal_label: str
    entry: str  # EcritureNum
    entry_date: dt.date
    account: str
    account_label: str
    aux: str
    aux_label: str
    piece_ref: str
    piece_date: dt.date | None
    label: str
    debit: Decimal
    credit: Decimal
    letter: str
    letter_date: dt.date | None
    currency_amount: Decimal | None
    currency: str

    @property
    def is_customer(self) -> bool:
        return self.account.startswith(CUSTOMER_CLASS)

    @property
    def net(self) -> Decimal:
        """Debit minus credit: positive on the debit side."""
        return self.debit - self.credit


@dataclass(frozen=True)
class ParsedFec:
    file: str
    encoding: str
    delimiter: str
    lines: list[FecLine]
    errors: list[RowError]  # unreadable cells; each names its line and column
    read: int  # data lines read
    # entries with an unreadable line, {(journal, number): first row}: they are refused whole
    bad_entries: dict[tuple[str, str], int] = field(default_factory=dict)


def _split(line: str, delimiter: str) -> list[str]:
    cells = line.split(delimiter)
    return [
        c.strip()[1:-1].strip() if len(c.strip()) >= 2 and c.strip()[0] == c.strip()[-1] == '"' else c.strip()
        for c in cells
    ]


def _date(text: str) -> dt.date:
    s = text.strip()
    try:
        if len(s) == 8 and s.isdigit():
            return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
        if len(s) >= 10 and s[4] == "-":
            return dt.date.fromisoformat(s[:10])
        if len(s) == 10 and s[2] == "/" and s[5] == "/":
            return dt.date(int(s[6:]), int(s[3:5]), int(s[:2]))
    except ValueError:
        pass
    raise BadValue(BAD_DATE)


def parse_fec(data: bytes, file: str) -> ParsedFec:
    """Read a FEC. Raises ValidationError when the file is not a FEC at all; cell errors are returned."""
    encoding = detect_encoding(data[: 1 << 20])
    if encoding != "cp1252":
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            encoding = "cp1252"
    if encoding == "cp1252":
        text = data.decode("cp1252", errors="replace")
    raw_lines = text.split("\n")
    header_index = next((i for i, line in enumerate(raw_lines) if line.strip()), None)
    if header_index is None:
        raise errors.ValidationError(EMPTY_FILE.format(file=file), field="file")
    header = raw_lines[header_index].rstrip("\r").lstrip("\ufeff")
    delimiter = "\t" if "\t" in header else "|" if "|" in header else ""
    names = [h.lower() for h in _split(header, delimiter)] if delimiter else [header.strip().lower()]
    index = {name: i for i, name in enumerate(names) if name}
    wanted = [c for c in COLUMNS if c not in ("Debit", "Credit")]
    has_amounts = "debit" in index and "credit" in index
    has_signed = all(c.lower() in index for c in AMOUNT_ALTERNATIVE)
    missing = [c for c in wanted if c.lower() not in index and c not in ("Montantdevise", "Idevise")]
    if not (has_amounts or has_signed):
        missing += ["Debit", "Credit"]
    if missing or not delimiter:
        raise errors.ValidationError(
            NOT_A_FEC.format(file=file, missing=", ".join(missing) or "a tab or | separator"), field="file"
        )
    lines: list[FecLine] = []
    problems: list[RowError] = []
    bad_entries: dict[tuple[str, str], int] = {}
    read = 0
    ncols = len(names)
    for offset, raw in enumerate(raw_lines[header_index + 1 :], start=header_index + 2):
        raw = raw.rstrip("\r")
        if not raw.strip():
            continue
        read += 1
        cells = _split(raw, delimiter)
        if len(cells) > ncols and any(cells[ncols:]):
            problems.append(RowError(file, offset, "", "", TOO_MANY_CELLS.format(cells=len(cells), columns=ncols)))
            key = _key_of(cells, index)
            if key is not None:
                bad_entries.setdefault(key, offset)
            continue
        line = _line(file, offset, cells, index, has_amounts, problems)
        if line is not None:
            lines.append(line)
            continue
        key = _key_of(cells, index)
        if key is not None:
            bad_entries.setdefault(key, offset)
    return ParsedFec(file, encoding, delimiter, lines, problems, read, bad_entries)


def _key_of(cells: list[str], index: dict[str, int]) -> tuple[str, str] | None:
    journal, number = (cells[index[c]].strip() if index[c] < len(cells) else "" for c in ("journalcode", "ecriturenum"))
    return (journal, number) if journal and number else None


def _line(
    file: str, row: int, cells: list[str], index: dict[str, int], has_amounts: bool, problems: list[RowError]
) -> FecLine | None:
    before = len(problems)

    def cell(name: str) -> str:
        i = index.get(name.lower())
        return cells[i] if i is not None and i < len(cells) else ""

    def fail(column: str, value: str, reason: str) -> None:
        problems.append(RowError(file, row, column, value, reason))

    def required(name: str) -> str:
        value = cell(name)
        if not value:
            fail(name, "", REQUIRED)
        return value

    def date(name: str, *, needed: bool) -> dt.date | None:
        value = required(name) if needed else cell(name)
        if not value:
            return None
        try:
            return _date(value)
        except BadValue as exc:
            fail(name, value, str(exc))
            return None

    def amount(name: str) -> Decimal:
        value = cell(name)
        if not value:
            return Decimal(0)
        try:
            return parse_decimal(value)
        except BadValue:
            fail(name, value, BAD_AMOUNT)
            return Decimal(0)

    journal, entry, account = required("JournalCode"), required("EcritureNum"), required("CompteNum")
    entry_date = date("EcritureDate", needed=True)
    if has_amounts:
        debit, credit = amount("Debit"), amount("Credit")
    else:
        signed = amount("Montant")
        sens = cell("Sens").upper()[:1]
        debit, credit = (signed, Decimal(0)) if sens in ("D", "+", "1") else (Decimal(0), signed)
    if debit < 0 or credit < 0:  # a negative debit is a credit, and the reverse
        debit, credit = debit - min(credit, Decimal(0)), credit - min(debit, Decimal(0))
        debit, credit = max(debit, Decimal(0)), max(credit, Decimal(0))
    currency = cell("Idevise").upper()
    if currency and not is_currency(currency):
        fail("Idevise", currency, BAD_CURRENCY)
    currency_amount = amount("Montantdevise") if cell("Montantdevise") else None
    piece_date = date("PieceDate", needed=False)
    letter_date = date("DateLet", needed=False)
    if len(problems) > before:
        return None
    assert entry_date is not None
    return FecLine(
        row=row,
        journal=journal,
        journal_label=cell("JournalLib"),
        entry=entry,
        entry_date=entry_date,
        account=account,
        account_label=cell("CompteLib"),
        aux=cell("CompAuxNum"),
        aux_label=cell("CompAuxLib"),
        piece_ref=cell("PieceRef"),
        piece_date=piece_date,
        label=cell("EcritureLib"),
        debit=debit,
        credit=credit,
        letter=cell("EcritureLet"),
        letter_date=letter_date,
        currency_amount=currency_amount,
        currency=currency,
    )


# --- planning (pure) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FecEntry:
    journal: str
    number: str
    lines: tuple[FecLine, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.journal, self.number)

    @property
    def label(self) -> str:
        return f"{self.journal} {self.number}"

    @property
    def is_opening(self) -> bool:
        first = self.lines[0]
        return first.journal.upper() in OPENING_JOURNALS or bool(OPENING_LABEL.search(first.journal_label))

    @property
    def is_sales(self) -> bool:
        accounts = [line.account for line in self.lines]
        return any(a.startswith(CUSTOMER_CLASS) for a in accounts) and any(
            a.startswith(SALES_PREFIXES) for a in accounts
        )

    @property
    def treasury_method(self) -> str:
        """The payment method of a treasury entry (a 51x or 53x line), else ''."""
        for prefix, method in TREASURY_METHODS:
            if any(line.account.startswith(prefix) for line in self.lines):
                return method
        return ""


def group_entries(lines: Iterable[FecLine]) -> list[FecEntry]:
    """Lines grouped by (JournalCode, EcritureNum), in the order of their first line."""
    grouped: dict[tuple[str, str], list[FecLine]] = {}
    for line in lines:
        grouped.setdefault((line.journal.strip(), line.entry.strip()), []).append(line)
    return [FecEntry(j, n, tuple(ls)) for (j, n), ls in grouped.items()]


def unbalanced(entry: FecEntry) -> str:
    """The reason an entry is refused, or '' when debits equal credits."""
    debit = sum((line.debit for line in entry.lines), Decimal(0))
    credit = sum((line.credit for line in entry.lines), Decimal(0))
    if debit == credit:
        return ""
    rows = [line.row for line in entry.lines]
    return UNBALANCED.format(
        journal=entry.journal,
        number=entry.number,
        debit=_fmt(debit),
        credit=_fmt(credit),
        first=min(rows),
        last=max(rows),
    )


def _fmt(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


@dataclass(frozen=True)
class FecItem:
    """One 411 line as a receivable item: an invoice, a credit note or a payment."""

    row: int
    customer_ref: str
    kind: str  # invoice | credit_note | payment
    key: str  # document number or payment reference
    date: dt.date  # issue date (documents), payment date (payments)
    currency: str
    amount: Decimal
    tax: Decimal
    letter: str
    letter_date: dt.date | None
    origin: str  # sales | opening | treasury | other
    method: str = ""
    label: str = ""
    entry: str = ""  # "JOURNAL NUMBER", for messages

    @property
    def is_document(self) -> bool:
        return self.kind != "payment"

    @property
    def is_debit(self) -> bool:
        return self.kind == "invoice"


@dataclass
class FecPlan:
    customers: dict[str, str]  # reference -> name
    items: list[FecItem]
    rejected: list[RowError]  # one per refused entry (unbalanced, or with unreadable lines)
    entries: int
    debit_411: Decimal  # in the accounting currency, over the kept entries
    credit_411: Decimal


def _tax_share(entry: FecEntry, line: FecLine, currency: str) -> Decimal:
    """The VAT of a 411 line: the entry's net 4457x credit, shared pro rata between its 411 lines."""
    net_411 = sum((ln.net for ln in entry.lines if ln.is_customer), Decimal(0))
    net_tax = sum((ln.credit - ln.debit for ln in entry.lines if ln.account.startswith(TAX_PREFIX)), Decimal(0))
    if net_411 == 0 or net_tax == 0:
        return Decimal(0)
    share = (net_tax * line.net / net_411).quantize(quantum(currency), rounding=ROUND_HALF_UP)
    # VAT is credited with an invoice and debited with a credit note: the share has the line's sign
    if (share > 0) != (line.net > 0) or abs(share) > abs(line.net):
        return Decimal(0)
    return abs(share)


def plan_fec(parsed: ParsedFec, *, currency: str) -> FecPlan:
    """Turn the FEC's entries into receivable items (see the module docstring and docs).

    Refused entries (unbalanced, or with an unreadable line) give no item and one RowError each.
    """
    rejected: list[RowError] = []
    items: list[FecItem] = []
    customers: dict[str, str] = {}
    used_numbers: set[str] = set()
    debit = credit = Decimal(0)
    entries = group_entries(parsed.lines)
    seen = {entry.key for entry in entries}
    for key, row in parsed.bad_entries.items():
        if key not in seen:  # every line of the entry was unreadable
            rejected.append(RowError(parsed.file, row, "EcritureNum", key[1], _bad_entry(key)))
    for entry in entries:
        reason = _bad_entry(entry.key) if entry.key in parsed.bad_entries else unbalanced(entry)
        if reason:
            row = min(entry.lines[0].row, parsed.bad_entries.get(entry.key, entry.lines[0].row))
            rejected.append(RowError(parsed.file, row, "EcritureNum", entry.number, reason))
            continue
        for position, line in enumerate(entry.lines, start=1):
            if not line.is_customer or line.net == 0:
                continue
            debit += line.debit
            credit += line.credit
            ref = line.aux or line.account
            customers[ref] = line.aux_label or line.account_label or ref  # the last label read names the account
            items.append(_item(entry, line, position, ref, currency, used_numbers))
    return FecPlan(customers, items, rejected, len(entries) + len(set(parsed.bad_entries) - seen), debit, credit)


def _bad_entry(key: tuple[str, str]) -> str:
    return BAD_ENTRY.format(journal=key[0], number=key[1], reason="it has unreadable lines")


def _item(entry: FecEntry, line: FecLine, position: int, ref: str, currency: str, used_numbers: set[str]) -> FecItem:
    own = f"{entry.journal}-{entry.number}-{position}"[:80]
    amount, item_currency = abs(line.net), currency
    if line.currency and line.currency != currency and line.currency_amount:
        amount, item_currency = abs(line.currency_amount), line.currency
    tax = Decimal(0)
    letter = line.letter
    common = {
        "row": line.row,
        "customer_ref": ref,
        "currency": item_currency,
        "amount": amount,
        "letter": letter,
        "letter_date": line.letter_date,
        "label": line.label,
        "entry": entry.label,
    }
    if entry.is_opening:
        # opening open items (à-nouveaux), dated at their PieceDate: a debit is an open invoice,
        # a credit is money received before the period and not yet applied
        day = line.piece_date or line.entry_date
        if line.net > 0:
            return FecItem(kind="invoice", key=own[:NUMBER_MAX], date=day, tax=tax, origin="opening", **common)
        return FecItem(kind="payment", key=own, date=day, tax=tax, origin="opening", method="other", **common)
    method = entry.treasury_method
    if line.net < 0 and method:
        return FecItem(
            kind="payment", key=own, date=line.entry_date, tax=tax, origin="treasury", method=method, **common
        )
    day = line.piece_date or line.entry_date
    kind = "invoice" if line.net > 0 else "credit_note"
    if entry.is_sales:
        tax = _tax_share(entry, line, currency)
        if item_currency != currency and tax:
            tax = (tax * amount / abs(line.net)).quantize(quantum(item_currency), rounding=ROUND_HALF_UP)
        number = (line.piece_ref or entry.number).strip()
        if not number or number in used_numbers or len(number) > NUMBER_MAX:
            number = own[:NUMBER_MAX]
        used_numbers.add(number)
        return FecItem(kind=kind, key=number, date=day, tax=tax, origin="sales", **common)
    # a debit outside sales (a refund, a bounced payment) or a non-cash credit (write-off, set-off)
    return FecItem(
        kind=kind, key=own[:NUMBER_MAX], date=day, tax=tax, origin=method and "treasury" or "other", **common
    )


# --- lettering (pure) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """One allocation the lettering asks for: ``amount`` of ``source`` (a payment or credit note) to ``target``."""

    customer_ref: str
    letter: str
    target: str  # invoice number
    source_kind: str  # payment | credit_note
    source: str  # payment reference or credit note number
    amount: Decimal
    date: dt.date


def letter_groups(items: Iterable[FecItem]) -> dict[tuple[str, str], list[FecItem]]:
    """Items sharing a lettering code within a customer account."""
    groups: dict[tuple[str, str], list[FecItem]] = defaultdict(list)
    for item in items:
        if item.letter:
            groups[(item.customer_ref, item.letter)].append(item)
    return groups


def settle(items: Iterable[FecItem], open_amounts: Mapping[tuple[str, str], Decimal]) -> list[Settlement]:
    """Allocations from the lettering: within each (customer, letter), payments and credit notes settle the
    invoices, oldest first on both sides, never beyond what is still open.

    ``open_amounts`` maps ("document", number) / ("payment", reference) to what is open now, so that a
    second run over the same file finds nothing left to allocate. A partial lettering (the group does not
    balance) leaves the rest open. The date is DateLet, else the later of the two items' dates.
    """
    out: list[Settlement] = []
    for (customer_ref, letter), group in letter_groups(items).items():
        targets = sorted((i for i in group if i.is_debit), key=lambda i: (i.date, i.row))
        sources = sorted((i for i in group if not i.is_debit), key=lambda i: (i.date, i.row))
        left = {id(i): open_amounts.get(_open_key(i), Decimal(0)) for i in group}
        for target in targets:
            for source in sources:
                if left[id(target)] <= 0:
                    break
                if left[id(source)] <= 0 or source.currency != target.currency:
                    continue
                amount = min(left[id(target)], left[id(source)])
                left[id(target)] -= amount
                left[id(source)] -= amount
                day = max(d for d in (target.date, source.date, target.letter_date, source.letter_date) if d)
                out.append(Settlement(customer_ref, letter, target.key, source.kind, source.key, amount, day))
    return out


def _open_key(item: FecItem) -> tuple[str, str]:
    return ("payment" if item.kind == "payment" else "document", item.key)


# --- loading (service) --------------------------------------------------------------------------------


@dataclass
class FecResult:
    file: str
    company: str
    status: str  # loaded | partial | refused
    counts: dict[str, Any]
    totals: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    run_id: int | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": "fec",
            "warnings": self.warnings,
            "company": self.company,
            "status": self.status,
            "counts": self.counts,
            "totals": self.totals,
            "error_count": len(self.errors),
            "errors": [e.as_dict() for e in self.errors[:1000]],
            "import_id": self.run_id,
        }


class _Rollback(Exception):
    pass


COLUMN_OF_FIELD = {
    "number": "PieceRef",
    "customer_ref": "CompAuxNum",
    "amount": "Debit",
    "tax_amount": "Credit",
    "issue_date": "PieceDate",
    "due_date": "PieceDate",
    "currency": "Idevise",
    "type": "CompteNum",
    "corrects_number": "PieceRef",
}


def import_fec(
    *,
    actor: Any,
    path: Path,
    company: str,
    partial: bool = False,
    progress: Callable[[int], None] | None = None,
    display_name: str | None = None,
    preview: bool = False,
) -> FecResult:
    """Import a FEC into ``company``: all or nothing, or with ``partial`` without its refused entries.

    ``preview`` loads it inside a transaction that is rolled back: the counts are what an import would do."""
    from django.db import transaction

    from relance.core import audit, clock
    from relance.orgs.models import User
    from relance.orgs.services import company_by_code

    from .models import ImportRun
    from .services import sha256_of

    owner = company_by_code(company)
    path = Path(path)
    if not path.is_file():
        raise errors.ValidationError(f"{path}: no such file.", field="file")
    name = display_name or str(path)
    parsed = parse_fec(path.read_bytes(), name)
    plan = plan_fec(parsed, currency=owner.currency)
    problems = [*parsed.errors, *plan.rejected]
    run = ImportRun.objects.create(
        kind="fec",
        file_name=name[:300],
        sha256=sha256_of(path),
        company=owner,
        mode="preview" if preview else "partial" if partial else "atomic",
        started_at=clock.now(),
        actor=actor if isinstance(actor, User) else None,
        actor_label=audit.actor_label(actor),
    )
    counts: dict[str, Any] = {"lines": parsed.read, "entries": plan.entries, "rejected_entries": len(plan.rejected)}
    loaded: dict[str, Any] = {}
    if not problems or partial or preview:
        try:
            with transaction.atomic():
                loaded = _load(actor, owner, name, plan, run.started_at, problems)
                if preview or (problems and not partial):
                    raise _Rollback()
        except _Rollback:
            loaded = loaded if preview else {}
    if progress:
        progress(parsed.read)
    problems.sort(key=lambda e: (e.row, e.column))
    status = "preview" if preview else ("refused" if not partial else "partial") if problems else "loaded"
    counts.update(loaded.get("counts", {}))
    totals = {
        "currency": owner.currency,
        "debit_411": str(plan.debit_411),
        "credit_411": str(plan.credit_411),
        **loaded.get("totals", {}),
    }
    run.status, run.counts = status, {**counts, "totals": totals}
    run.errors, run.error_count = [e.as_dict() for e in problems[:200]], len(problems)
    run.finished_at = clock.now()
    run.save()
    return FecResult(name, owner.code, status, counts, totals, problems, run.pk, siren_warnings(path.name, owner))


FILE_NAME = re.compile(r"^(\d{9})FEC(\d{8})", re.I)
OTHER_SIREN = "the file name says SIREN {found} (SirenFECYYYYMMDD), but company {code} has SIREN {siren}"


def siren_warnings(file_name: str, company: Any) -> list[str]:
    """The legal file name starts with the SIREN of the company whose ledger it is: a mismatch is worth a word."""
    match = FILE_NAME.match(file_name)
    if match and company.siren and match.group(1) != company.siren:
        return [OTHER_SIREN.format(found=match.group(1), code=company.code, siren=company.siren)]
    return []


SOURCE = "fec"
CHUNK = 2000


def _chunks(values: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _load(
    actor: Any,
    company: Any,
    file: str,
    plan: FecPlan,
    started_at: dt.datetime,
    problems: list[RowError],
) -> dict[str, Any]:
    """Write the plan (inside the caller's transaction); appends to ``problems`` what cannot be loaded.

    Each record is written in its own savepoint, so that with --partial a refused one leaves no trace."""
    from relance.ledger import domain

    from . import loaders

    ctx = loaders.Context(
        actor=actor,
        file=file,
        source=SOURCE,
        started_at=started_at,
        column=lambda c: COLUMN_OF_FIELD.get(c, c),
        emit_events=True,  # documents emit through the loader; payments and allocations through the services
    )
    ctx.companies[company.code] = company
    items: list[FecItem] = []
    for item in plan.items:
        try:
            domain.check_amount(item.amount, item.currency)
        except errors.ValidationError as exc:
            problems.append(RowError(file, item.row, "Montantdevise", str(item.amount), exc.message))
            continue
        items.append(item)
    terms, customer_counts = _load_customers(ctx, company, plan, items, problems)
    items = [i for i in items if (company.pk, i.customer_ref) in ctx.customer_ids]
    doc_counts = _load_documents(ctx, company, items, terms, problems)
    pay_counts = _load_payments(ctx, company, items, problems)
    alloc_counts, loaded_items = _load_allocations(ctx, company, items, problems)
    totals = {
        kind: str(
            sum((i.amount for i in loaded_items if i.kind == kind and i.currency == company.currency), Decimal(0))
        )
        for kind in ("invoice", "credit_note", "payment")
    }
    return {
        "counts": {
            "customers": customer_counts,
            "documents": doc_counts,
            "payments": pay_counts,
            "allocations": alloc_counts,
        },
        "totals": {f"{kind}s": value for kind, value in totals.items()},
    }


def _load_customers(
    ctx: Any, company: Any, plan: FecPlan, items: list[FecItem], problems: list[RowError]
) -> tuple[dict[str, int], dict[str, int]]:
    """Create the customer accounts the FEC names and Relance lacks; existing ones are left as they are."""
    from django.db import transaction

    from relance.ledger import services as ledger
    from relance.ledger.models import Customer

    refs = list(plan.customers)
    terms: dict[str, int] = {}
    for chunk in _chunks(refs):
        for ref, pk, days in Customer.objects.filter(company=company, reference__in=chunk).values_list(
            "reference", "pk", "payment_terms_days"
        ):
            ctx.customer_ids[(company.pk, ref)] = pk
            terms[ref] = days
    first_row = {}
    for item in items:
        first_row.setdefault(item.customer_ref, item.row)
    created = 0
    for ref in refs:
        if (company.pk, ref) in ctx.customer_ids or ref not in first_row:
            continue
        row = first_row[ref]
        if len(ref) > 50:
            problems.append(RowError(ctx.file, row, "CompAuxNum", ref, "longer than 50 characters"))
            continue
        try:
            with transaction.atomic():
                customer, _ = ledger.customer_upsert(
                    actor=ctx.actor,
                    company=company,
                    reference=ref,
                    name=plan.customers[ref][:200],
                    country=DEFAULT_COUNTRY,
                )
        except errors.ValidationError as exc:
            problems.append(RowError(ctx.file, row, "CompAuxNum", ref, exc.message))
            continue
        ctx.customer_ids[(company.pk, ref)] = customer.pk
        terms[ref] = customer.payment_terms_days
        created += 1
    return terms, {"created": created, "existing": len(refs) - created}


def _load_documents(
    ctx: Any, company: Any, items: list[FecItem], terms: dict[str, int], problems: list[RowError]
) -> dict[str, int]:
    """Invoices and credit notes through the bulk document loader (audited). The due date is the issue date
    plus the customer's payment terms, unless the document already has one (the FEC carries none)."""
    from relance.ledger.models import Document

    from . import loaders
    from .rows import DocumentRecord

    docs = [i for i in items if i.is_document]
    known_due: dict[str, dt.date] = {}
    for chunk in _chunks([i.key for i in docs]):
        known_due.update(Document.objects.filter(company=company, number__in=chunk).values_list("number", "due_date"))
    before = dict(ctx.counts)
    for chunk in _chunks(docs):
        records = []
        for item in chunk:
            due = known_due.get(item.key)
            if due is None or due < item.date:
                due = item.date + dt.timedelta(days=terms.get(item.customer_ref, 30))
            records.append(
                DocumentRecord(
                    item.row,
                    company.code,
                    item.customer_ref,
                    item.key,
                    item.kind,
                    item.date,
                    due,
                    item.currency,
                    item.amount,
                    item.tax,
                    "",
                )
            )
        problems.extend(loaders.load_documents(ctx, records))
    return {k: ctx.counts[k] - before.get(k, 0) for k in ("created", "updated", "unchanged")}


def _load_payments(ctx: Any, company: Any, items: list[FecItem], problems: list[RowError]) -> dict[str, int]:
    """Payments by reference: new ones in bulk (audited), changed ones through payment_upsert."""
    from django.db import transaction

    from relance.core import clock
    from relance.ledger import services as ledger
    from relance.ledger.models import Customer, Payment

    pays = [i for i in items if i.kind == "payment"]
    existing: dict[str, Payment] = {}
    for chunk in _chunks([i.key for i in pays]):
        existing.update({p.reference: p for p in Payment.objects.filter(company=company, reference__in=chunk)})
    now = clock.now()
    to_create: list[Payment] = []
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in pays:
        customer_id = ctx.customer_ids[(company.pk, item.customer_ref)]
        values = {
            "customer_id": customer_id,
            "date": item.date,
            "currency": item.currency,
            "amount": item.amount,
            "method": item.method or "transfer",
            "bank_reference": item.label[:140],
        }
        old = existing.get(item.key)
        if old is None:
            to_create.append(
                Payment(
                    company=company,
                    reference=item.key,
                    unallocated_amount=item.amount,
                    source=SOURCE,
                    created_at=now,
                    updated_at=now,
                    **values,
                )
            )
            continue
        if all(getattr(old, k) == v for k, v in values.items()):
            counts["unchanged"] += 1
            continue
        try:
            with transaction.atomic():
                ledger.payment_upsert(
                    actor=ctx.actor,
                    company=company,
                    customer=Customer.objects.get(pk=customer_id),
                    reference=item.key,
                    date=item.date,
                    currency=item.currency,
                    amount=item.amount,
                    method=values["method"],
                    bank_reference=values["bank_reference"],
                    source=SOURCE,
                )
        except errors.ValidationError as exc:
            problems.append(
                RowError(
                    ctx.file, item.row, COLUMN_OF_FIELD.get(exc.field or "", "Credit"), str(item.amount), exc.message
                )
            )
            continue
        counts["updated"] += 1
    Payment.objects.bulk_create(to_create, batch_size=1000)
    for p in to_create:
        ctx.audit(
            "payment.create",
            "ledger.payment",
            p.pk,
            p.reference,
            p.customer_id,
            company.pk,
            {"amount": str(p.amount), "currency": p.currency, "date": p.date.isoformat(), "source": SOURCE},
        )
    ctx.flush_audit()
    counts["created"] = len(to_create)
    return counts


def _load_allocations(
    ctx: Any, company: Any, items: list[FecItem], problems: list[RowError]
) -> tuple[dict[str, int], list[FecItem]]:
    """Allocations from the lettering. Those this import booked earlier and that the lettering no longer
    supports are reversed first; then what the lettering asks and is still open is allocated."""
    from django.db import transaction

    from relance.core import clock
    from relance.ledger import services as ledger
    from relance.ledger.models import Allocation, Document, Payment

    docs: dict[str, Document] = {}
    pays: dict[str, Payment] = {}
    for chunk in _chunks([i.key for i in items if i.is_document]):
        docs.update({d.number: d for d in Document.objects.filter(company=company, number__in=chunk)})
    for chunk in _chunks([i.key for i in items if not i.is_document]):
        pays.update({p.reference: p for p in Payment.objects.filter(company=company, reference__in=chunk)})
    failed = {p.row for p in problems}
    loaded = [
        i
        for i in items
        if i.row not in failed and ((i.is_document and i.key in docs) or (not i.is_document and i.key in pays))
    ]
    group_of = {_open_key(i): (i.customer_ref, i.letter) if i.letter else None for i in loaded}
    reversed_count = 0
    doc_ids = [d.pk for d in docs.values()]
    live: list[Allocation] = []
    for chunk in _chunks(doc_ids):
        live.extend(
            Allocation.objects.filter(
                company=company, source=SOURCE, target_id__in=chunk, reverses__isnull=True, reversed_by__isnull=True
            ).select_related("target", "payment", "credit_note")
        )
    for allocation in live:
        target = ("document", allocation.target.number)
        source = (
            ("payment", allocation.payment.reference)
            if allocation.payment_id
            else ("document", allocation.credit_note.number)
        )
        if target not in group_of or source not in group_of:
            continue  # not both in this file: not this file's to undo
        if group_of[target] is None or group_of[target] != group_of[source]:
            ledger.allocation_reverse(
                actor=ctx.actor, allocation=allocation, date=clock.today(), reason=f"lettering removed in {ctx.file}"
            )
            reversed_count += 1
    open_amounts: dict[tuple[str, str], Decimal] = {}
    for chunk in _chunks(list(docs)):
        for number, open_amount in Document.objects.filter(company=company, number__in=chunk).values_list(
            "number", "open_amount"
        ):
            open_amounts[("document", number)] = open_amount
    for chunk in _chunks(list(pays)):
        for reference, left in Payment.objects.filter(company=company, reference__in=chunk).values_list(
            "reference", "unallocated_amount"
        ):
            open_amounts[("payment", reference)] = left
    row_of = {_open_key(i): i.row for i in loaded}
    created = 0
    for s in settle(loaded, open_amounts):
        target = docs[s.target]
        source_kw = {"payment": pays[s.source]} if s.source_kind == "payment" else {"credit_note": docs[s.source]}
        try:
            with transaction.atomic():
                ledger.allocation_create(
                    actor=ctx.actor, target=target, amount=s.amount, date=s.date, source=SOURCE, **source_kw
                )
        except errors.ValidationError as exc:
            problems.append(
                RowError(
                    ctx.file,
                    row_of[("document", s.target)],
                    "EcritureLet",
                    s.letter,
                    f"lettering {s.letter} of account {s.customer_ref}: {exc.message}",
                )
            )
            continue
        created += 1
    return {"created": created, "reversed": reversed_count}, loaded
