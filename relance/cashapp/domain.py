"""Cash matching, pure: which customer an incoming credit comes from, which documents it pays, how sure we are.

Plain values in (the line, the open items, the customers, remembered payer accounts, a conversion function),
a :class:`Match` out: a decision (``auto``, ``review``, ``unidentified``), ranked :class:`Proposal` values with a
confidence between 0 and 1 and reasons a collector understands. No ORM, no clock: the caller gives ``as_of``.

Two steps, each a list of rules whose order and thresholds a company configures (:class:`MatchConfig`):

1. *who pays* — ``structured_reference`` (Relance's RF creditor reference), ``invoice_number`` (numbers of open
   invoices written in the texts), ``iban`` (a payer account learnt from confirmed matches),
   ``customer_reference`` (the customer's reference in the texts), ``name`` (the payer's name, exact or fuzzy).
   The evidence of every rule that names a customer is combined (1 − Π(1 − s)); the rule order breaks ties.
2. *what it pays* — ``referenced`` (the invoices named in the texts), ``exact_amount`` (one open item of that
   amount), ``combination`` (open items adding up to the amount: a bounded search, oldest first),
   ``oldest_first`` (a suggestion for review only).

A difference within tolerance is explained and booked: bank fees, early-payment discount, exchange difference
(the payer paid less), or an overpayment left on the customer's account.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rapidfuzz import fuzz
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

CUSTOMER_RULES = ("structured_reference", "invoice_number", "iban", "customer_reference", "name")
DOCUMENT_RULES = ("referenced", "exact_amount", "combination", "oldest_first")
AUTO, REVIEW, UNIDENTIFIED = "auto", "review", "unidentified"

# How a difference between what was paid and what was allocated is explained (and booked).
NONE = ""
BANK_FEES = "bank_fees"
DISCOUNT = "discount"
EXCHANGE = "exchange_difference"
UNDERPAYMENT = "underpayment"  # beyond tolerance: the document stays open for the rest
OVERPAYMENT = "overpayment"  # left unallocated on the customer's account
WRITE_OFF_KINDS = (BANK_FEES, DISCOUNT, EXCHANGE)

Converter = Callable[[Decimal, str, str, dt.date], Decimal | None]
_NON_ALNUM = re.compile(r"[^0-9A-Z]")
_SPLIT = re.compile(r"[^0-9A-Z]+")
_NON_DIGIT = re.compile(r"\D")
_SPACE_DASH = re.compile(r"[\s\-]")
_RF = re.compile(r"RF\d{2}[DCS]\d{1,19}")
TRUNCATED_MAX_KEYS = 30  # numbers a cut-short reference may begin (more: too vague to tell apart)

LEGAL_FORMS = frozenset(
    "SA SAS SASU SARL EURL SNC SCI SCOP SELARL GIE EI EIRL SE AG GMBH KG OHG UG BV NV VOF LTD LIMITED PLC LLP LLC "
    "INC CORP CO COMPANY SPA SRL SL SLU AB AS OY APS ET CIE THE DE DU DES LA LE LES AND".split()
)
STOPWORDS = frozenset(
    "VIR VIREMENT SEPA INST RECU PAIEMENT PAYMENT REGLEMENT FACTURE FACTURES FACT FAC FA INVOICE INVOICES INV "
    "REF REFERENCE NO NR NUM NUMERO N TRANSFER ECHEANCE SOLDE ACOMPTE POUR FOR PAR DE DU DES LA LE LES ET".split()
)


# --- configuration -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchConfig:
    """A company's matching settings. Built from JSON with :meth:`from_dict`, which says what is wrong."""

    customer_rules: tuple[str, ...] = CUSTOMER_RULES
    document_rules: tuple[str, ...] = DOCUMENT_RULES
    auto_threshold: Decimal = Decimal("0.90")
    review_threshold: Decimal = Decimal("0.40")
    name_min_score: int = 85  # 0..100, rapidfuzz token-set ratio on normalised names
    bank_fees_max: Decimal = Decimal("15.00")  # an underpayment up to this amount is bank fees
    underpayment_pct: Decimal = Decimal("0.5")  # or up to this share of what is due (%), whichever is larger
    overpayment_max: Decimal = Decimal("5.00")  # an overpayment up to this is accepted as such
    discount_pcts: tuple[Decimal, ...] = (Decimal("2"), Decimal("3"))  # early-payment discounts offered (%)
    discount_days: int = 10  # paid within this many days of the invoice date
    fx_pct: Decimal = Decimal("1.0")  # tolerance of a converted amount (%)
    combination_max_items: int = 20  # open items considered, oldest first
    combination_max_size: int = 6
    combination_max_steps: int = 20000

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> MatchConfig:
        """Validate a settings JSON; raise ValueError naming the key and what is expected."""
        data = dict(data or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        out: dict[str, Any] = {}
        for key, allowed in (("customer_rules", CUSTOMER_RULES), ("document_rules", DOCUMENT_RULES)):
            if key in data:
                rules = data[key]
                if not isinstance(rules, list | tuple) or not all(isinstance(r, str) for r in rules):
                    raise ValueError(f"{key}: a list of rule names")
                bad = [r for r in rules if r not in allowed]
                if bad or len(set(rules)) != len(rules):
                    raise ValueError(f"{key}: each of {', '.join(allowed)} at most once (got {rules})")
                out[key] = tuple(rules)
        for key in ("auto_threshold", "review_threshold"):
            if key in data:
                out[key] = _decimal(data[key], key, Decimal(0), Decimal(1))
        for key in ("bank_fees_max", "overpayment_max"):
            if key in data:
                out[key] = _decimal(data[key], key, Decimal(0), Decimal(1_000_000))
        for key in ("underpayment_pct", "fx_pct"):
            if key in data:
                out[key] = _decimal(data[key], key, Decimal(0), Decimal(50))
        if "discount_pcts" in data:
            values = data["discount_pcts"]
            if not isinstance(values, list | tuple):
                raise ValueError('discount_pcts: a list of percentages such as ["2", "3"]')
            out["discount_pcts"] = tuple(_decimal(v, "discount_pcts", Decimal(0), Decimal(50)) for v in values)
        for key, low, high in (
            ("name_min_score", 50, 100),
            ("discount_days", 0, 365),
            ("combination_max_items", 1, 60),
            ("combination_max_size", 1, 12),
            ("combination_max_steps", 1, 1_000_000),
        ):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    raise ValueError(f"{key}: a whole number from {low} to {high} (got {value!r})")
                out[key] = value
        config = cls(**out)
        if config.review_threshold > config.auto_threshold:
            raise ValueError("review_threshold must not be above auto_threshold")
        return config

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            if isinstance(value, tuple):
                out[key] = [str(v) if isinstance(v, Decimal) else v for v in value]
            else:
                out[key] = str(value) if isinstance(value, Decimal) else value
        return out


def _decimal(value: Any, key: str, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, float | bool):
        raise ValueError(f'{key}: write the number as a string such as "0.90" (got {value!r})')
    try:
        number = Decimal(str(value))
    except Exception:
        raise ValueError(f"{key}: {value!r} is not a number")
    if not number.is_finite() or not low <= number <= high:
        raise ValueError(f"{key}: a number from {low} to {high} (got {value})")
    return number


# --- values --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """An incoming credit to match. ``amount`` is positive."""

    id: int
    amount: Decimal
    currency: str
    booking_date: dt.date
    counterparty_name: str = ""
    counterparty_iban: str = ""
    text: str = ""  # remittance, additional information, end-to-end id
    creditor_reference: str = ""


@dataclass(slots=True)
class OpenItem:
    """An open invoice. Treated as immutable (:meth:`Book.take` replaces one, never changes it); not declared
    frozen only because a book builds up to a million of them and a frozen dataclass is four times slower to
    make."""

    id: int
    number: str
    customer_id: int
    currency: str
    open_amount: Decimal
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Payer:
    id: int
    reference: str
    name: str


@dataclass(frozen=True, slots=True)
class Share:
    """Part of a payment applied to one document, in the document's currency."""

    document_id: int
    number: str
    amount: Decimal
    closes: bool = False  # the document is fully settled by it (and the booked difference)


@dataclass(frozen=True)
class Proposal:
    customer_id: int | None
    shares: tuple[Share, ...]
    confidence: Decimal
    reasons: tuple[str, ...]
    rule: str  # the document rule that produced it
    currency: str  # of the documents (the payment is booked in it)
    amount: Decimal  # the line's amount in that currency
    difference: Decimal = Decimal(0)  # amount − shares: > 0 overpaid, < 0 underpaid
    difference_kind: str = NONE
    difference_document: int | None = None  # the document whose rest is written off
    rate: Decimal | None = None  # units of ``currency`` per unit of the line's currency, when converted

    @property
    def allocated(self) -> Decimal:
        return sum((s.amount for s in self.shares), Decimal(0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "shares": [
                {"document_id": s.document_id, "number": s.number, "amount": str(s.amount)} for s in self.shares
            ],
            "confidence": str(self.confidence),
            "reasons": list(self.reasons),
            "rule": self.rule,
            "currency": self.currency,
            "amount": str(self.amount),
            "difference": str(self.difference),
            "difference_kind": self.difference_kind,
            "difference_document": self.difference_document,
            "rate": str(self.rate) if self.rate is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Proposal:
        return cls(
            customer_id=data.get("customer_id"),
            shares=tuple(Share(s["document_id"], s["number"], Decimal(s["amount"])) for s in data.get("shares", [])),
            confidence=Decimal(data.get("confidence", "0")),
            reasons=tuple(data.get("reasons", [])),
            rule=data.get("rule", ""),
            currency=data.get("currency", ""),
            amount=Decimal(data.get("amount", "0")),
            difference=Decimal(data.get("difference", "0")),
            difference_kind=data.get("difference_kind", ""),
            difference_document=data.get("difference_document"),
            rate=Decimal(data["rate"]) if data.get("rate") else None,
        )


@dataclass(frozen=True)
class Match:
    line_id: int
    decision: str  # auto | review | unidentified
    proposals: tuple[Proposal, ...] = ()

    @property
    def best(self) -> Proposal | None:
        return self.proposals[0] if self.proposals else None


# --- text ----------------------------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()


def number_keys(number: str) -> tuple[str, ...]:
    """The keys an invoice number is known by: its letters and digits (``INV-2024/0012`` → ``INV20240012``) and,
    when it has at least 5 digits, its digits without leading zeros (``20240012``)."""
    compact = _NON_ALNUM.sub("", number.upper() if number.isascii() else _ascii(number))
    keys = [compact] if compact else []
    digits = _NON_DIGIT.sub("", compact).lstrip("0")
    if len(digits) >= 5 and digits != compact:
        keys.append(digits)
    return tuple(keys)


def text_candidates(text: str) -> list[str]:
    """Candidate references in a free text: each token, and runs of 2–3 adjacent tokens joined (a number written
    ``F 2024 0012`` or ``INV-2024-0012``), compacted; plus their digits without leading zeros."""
    tokens = [t for t in _SPLIT.split(_ascii(text)) if t]
    out: dict[str, None] = {}
    for i in range(len(tokens)):
        for size in (1, 2, 3):
            if i + size > len(tokens):
                break
            joined = "".join(tokens[i : i + size])
            if size > 1 and not any(c.isdigit() for c in tokens[i + size - 1]):
                continue
            out.setdefault(joined, None)
            digits = _NON_DIGIT.sub("", joined).lstrip("0")
            if len(digits) >= 5:
                out.setdefault(digits, None)
    return list(out)


def normal_name(name: str) -> str:
    """A company name without accents, punctuation or legal forms: ``Acme S.A.R.L.`` → ``ACME``."""
    text = _ascii(name)
    text = re.sub(r"\b([A-Z])\.(?=[A-Z]\.)", r"\1", text)  # S.A.R.L. → SARL.
    text = re.sub(r"(?<=\b[A-Z])\.", "", text)
    words = [w for w in _SPLIT.split(text) if w and w not in LEGAL_FORMS]
    return " ".join(words)


def creditor_reference(kind: str, identifier: int) -> str:
    """Relance's structured creditor reference (ISO 11649, ``RFkk`` + body) for a document (``D``), a customer
    account (``C``) or a selection of invoices made in the customer portal (``S``): what reminders and the portal
    ask the payer to write."""
    if kind not in ("D", "C", "S"):
        raise ValueError("kind is D (document), C (customer) or S (selection)")
    body = f"{kind}{identifier}"
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def read_creditor_reference(text: str) -> tuple[str, int] | None:
    """(kind, id) from a valid Relance RF reference anywhere in ``text``, else None."""
    if "RF" not in text.upper():
        return None
    compact = _SPACE_DASH.sub("", _ascii(text))
    for match in _RF.finditer(compact):
        candidate = match.group(0)
        # the reference may be followed by other characters: try the longest valid prefix first
        for end in range(len(candidate), 5, -1):
            ref = candidate[:end]
            if iso11649.is_valid(ref):
                return ref[4], int(ref[5:])
    return None


# --- the ledger as seen by the matcher ----------------------------------------------------------------------


@dataclass
class Book:
    """One company's open items, customers and payer accounts, indexed for matching. Build once, match many."""

    items: dict[int, OpenItem] = field(default_factory=dict)
    payers: dict[int, Payer] = field(default_factory=dict)
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_customer: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_reference: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_name_token: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    names: dict[int, str] = field(default_factory=dict)
    ibans: dict[str, tuple[int, int]] = field(default_factory=dict)  # iban → (customer, confirmations)
    sorted_keys: list[str] = field(default_factory=list)  # for numbers cut short by the bank
    selections: dict[int, tuple[int, ...]] = field(default_factory=dict)  # RF ``S`` id → the documents it names

    @classmethod
    def build(
        cls,
        items: Iterable[OpenItem],
        payers: Iterable[Payer],
        ibans: Mapping[str, tuple[int, int]] | None = None,
        selections: Mapping[int, Iterable[int]] | None = None,
    ) -> Book:
        book = cls()
        for p in payers:
            book.payers[p.id] = p
            ref = _NON_ALNUM.sub("", _ascii(p.reference))
            if len(ref) >= 4:
                book.by_reference[ref] = p.id
            name = normal_name(p.name)
            book.names[p.id] = name
            if name:
                book.by_name[name].append(p.id)
                for token in set(name.split()):
                    if len(token) >= 3 and token not in STOPWORDS:
                        book.by_name_token[token].append(p.id)
        by_item, by_key = book.items, book.by_key
        per_customer: dict[int, list[tuple[dt.date, dt.date, str, int]]] = defaultdict(list)
        zero = Decimal(0)
        for item in items:
            if item.open_amount <= zero:
                continue
            by_item[item.id] = item
            per_customer[item.customer_id].append((item.due_date, item.issue_date, item.number, item.id))
            for key in number_keys(item.number):
                by_key[key].append(item.id)
        book.sorted_keys = sorted(k for k in by_key if not k.isdigit())
        for customer_id, rows in per_customer.items():
            rows.sort()
            book.by_customer[customer_id] = [row[3] for row in rows]
        book.ibans = dict(ibans or {})
        book.selections = {k: tuple(v) for k, v in (selections or {}).items()}
        return book

    def take(self, shares: Iterable[Share]) -> None:
        """Reduce the open amounts by what a proposal applied (so the next lines of a run see it)."""
        for share in shares:
            item = self.items.get(share.document_id)
            if item is None:
                continue
            left = item.open_amount - share.amount
            if left <= 0:
                del self.items[item.id]
                self.by_customer[item.customer_id].remove(item.id)
            else:
                self.items[item.id] = replace(item, open_amount=left)


# --- step 1: who pays ----------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    scores: list[tuple[Decimal, int, str]] = field(default_factory=list)  # (score, rule rank, reason)
    documents: list[int] = field(default_factory=list)  # documents named by the line (RF, numbers)
    truncated: bool = False

    @property
    def confidence(self) -> Decimal:
        miss = Decimal(1)
        for score, _, _ in self.scores:
            miss *= 1 - score
        return 1 - miss

    @property
    def rank(self) -> int:
        return min((r for _, r, _ in self.scores), default=99)


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def identify(line: Line, book: Book, config: MatchConfig) -> dict[int, _Evidence]:
    """Candidate customers with their evidence, per the enabled rules."""
    found: dict[int, _Evidence] = defaultdict(_Evidence)
    text = f"{line.creditor_reference} {line.text}"
    candidates: list[str] | None = None  # computed once, for the rules that read them
    for rank, rule in enumerate(config.customer_rules):
        if rule == "structured_reference":
            ref = read_creditor_reference(text)
            if ref is None:
                continue
            kind, ident = ref
            if kind == "D" and ident in book.items:
                item = book.items[ident]
                ev = found[item.customer_id]
                ev.scores.append(
                    (Decimal("0.995"), rank, f"The payment reference is the one Relance gave for {item.number}.")
                )
                ev.documents.append(item.id)
            elif kind == "S" and ident in book.selections:
                named = [book.items[i] for i in book.selections[ident] if i in book.items]
                owners = {i.customer_id for i in named}
                if len(owners) != 1:
                    continue  # nothing left open (or, impossibly, several customers): other rules decide
                ev = found[owners.pop()]
                numbers = ", ".join(i.number for i in named)
                ev.scores.append(
                    (Decimal("0.995"), rank, f"The payment reference is the one the portal gave for {numbers}.")
                )
                ev.documents.extend(i.id for i in named if i.id not in ev.documents)
            elif kind == "C" and ident in book.payers:
                found[ident].scores.append(
                    (
                        Decimal("0.98"),
                        rank,
                        "The payment reference is the one Relance gave for this customer's account.",
                    )
                )
        elif rule == "invoice_number":
            per_customer: dict[int, list[tuple[int, bool]]] = defaultdict(list)
            if candidates is None:
                candidates = text_candidates(text)
            for candidate in candidates:
                for item_id in book.by_key.get(candidate, ()):
                    item = book.items.get(item_id)
                    if item is not None:
                        exact = not candidate.isdigit() or candidate == _NON_ALNUM.sub("", _ascii(item.number))
                        per_customer[item.customer_id].append((item_id, exact))
            cut: set[int] = set()
            by_amount = False
            if not per_customer:
                found_cut, by_amount = _truncated(text, book, line.amount)
                cut = set(found_cut)
                for item_id in cut:
                    per_customer[book.items[item_id].customer_id].append((item_id, False))
            for customer_id, hits in per_customer.items():
                ev = found[customer_id]
                ids = list(dict.fromkeys(i for i, _ in hits))
                numbers = ", ".join(book.items[i].number for i in ids)
                exact = any(e for _, e in hits)
                score = Decimal("0.97") if exact else Decimal("0.90")
                if cut:  # cut short: less telling, unless the amount singles the number out
                    score = Decimal("0.90") if by_amount else Decimal("0.80")
                if len(per_customer) > 1:
                    score -= Decimal("0.2")  # numbers of several customers: less telling
                if cut and by_amount:
                    why = (
                        f"The beginning of invoice number {numbers} is written in the transfer text (cut short); "
                        "of the invoices whose number begins so, it is the only one open for this amount."
                    )
                elif cut:
                    why = f"The beginning of invoice number {numbers} is written in the transfer text (cut short)."
                elif len(ids) == 1:
                    why = f"Invoice number {numbers} is written in the transfer text."
                else:
                    why = f"Invoice numbers {numbers} are written in the transfer text."
                ev.scores.append((score, rank, why))
                ev.documents.extend(i for i in ids if i not in ev.documents)
        elif rule == "iban":
            if line.counterparty_iban and line.counterparty_iban in book.ibans:
                customer_id, times = book.ibans[line.counterparty_iban]
                score = Decimal("0.98") if times >= 2 else Decimal("0.96")
                found[customer_id].scores.append(
                    (score, rank, f"The payer's account {line.counterparty_iban} is known to be this customer's "
                     f"(confirmed {times} time{'s' if times != 1 else ''}).")
                )  # fmt: skip
        elif rule == "customer_reference":
            if candidates is None:
                candidates = text_candidates(text)
            for candidate in candidates:
                customer_id = book.by_reference.get(candidate)
                if customer_id is not None:
                    ref = book.payers[customer_id].reference
                    found[customer_id].scores.append(
                        (Decimal("0.95"), rank, f"The customer reference {ref} is written in the transfer text.")
                    )
                    break
        elif rule == "name":
            if any(ev.confidence >= Decimal("0.95") for ev in found.values()):
                continue  # already sure of the payer: spare the fuzzy search
            _by_name(line, book, config, rank, found)
    return {k: v for k, v in found.items() if v.scores}


def _truncated(text: str, book: Book, amount: Decimal | None = None) -> tuple[list[int], bool]:
    """Open items whose number begins with the last reference-like token of the text (the bank cut it short):
    only when exactly one number does — or, when several do, exactly one of them is open for ``amount`` — and
    the token has at least 6 characters with a digit. Returns (items, told apart by the amount)."""
    tokens = [t for t in _SPLIT.split(_ascii(text)) if t]
    for size in (1, 2):
        if len(tokens) < size:
            break
        stub = "".join(tokens[-size:])
        if len(stub) < 6 or not any(c.isdigit() for c in stub) or stub.isdigit():
            continue
        start = bisect.bisect_left(book.sorted_keys, stub)
        hits = []
        for key in book.sorted_keys[start : start + TRUNCATED_MAX_KEYS]:
            if not key.startswith(stub):
                break
            hits.extend(book.by_key[key])
        hits = [i for i in dict.fromkeys(hits) if i in book.items]
        if len(hits) == 1:
            return hits, False
        if len(hits) > 1 and amount is not None and len(hits) < TRUNCATED_MAX_KEYS:
            same = [i for i in hits if book.items[i].open_amount == amount]
            if len(same) == 1:
                return same, True
    return [], False


def _by_name(line: Line, book: Book, config: MatchConfig, rank: int, found: dict[int, _Evidence]) -> None:
    name = normal_name(line.counterparty_name)
    if not name:
        return
    exact = book.by_name.get(name, [])
    if exact:
        score = Decimal("0.90") if len(exact) == 1 else Decimal("0.5")
        for customer_id in exact:
            found[customer_id].scores.append(
                (score, rank, f"The payer's name “{line.counterparty_name}” is this customer's name.")
            )
        return
    candidates: dict[int, None] = {}
    for token in name.split():
        for customer_id in book.by_name_token.get(token, ())[:200]:
            candidates.setdefault(customer_id, None)
    scored = []
    for customer_id in candidates:
        score = fuzz.token_set_ratio(name, book.names[customer_id])
        if score >= config.name_min_score:
            scored.append((score, customer_id))
    scored.sort(reverse=True)
    for score, customer_id in scored[:3]:
        strength = Decimal("0.5") + (Decimal(str(round(score))) - config.name_min_score) / max(
            1, 100 - config.name_min_score
        ) * Decimal("0.35")
        if len(scored) > 1 and scored[0][0] - scored[1][0] < 5:
            strength -= Decimal("0.2")
        found[customer_id].scores.append(
            (
                min(strength, Decimal("0.85")),
                rank,
                f"The payer's name “{line.counterparty_name}” is close to the customer's name "
                f"“{book.payers[customer_id].name}” ({round(score)}%).",
            )
        )


# --- step 2: what it pays ------------------------------------------------------------------------------------


def _tolerance(due: Decimal, config: MatchConfig) -> Decimal:
    return max(config.bank_fees_max, (due * config.underpayment_pct / 100).quantize(Decimal("0.01")))


def _explain_difference(
    paid: Decimal, due: Decimal, items: list[OpenItem], line: Line, config: MatchConfig, converted: bool
) -> tuple[str, str]:
    """(kind, reason) for paid − due, when acceptable; kind UNDERPAYMENT/"" otherwise."""
    diff = paid - due
    currency = items[0].currency
    if diff == 0:
        return NONE, ""
    if diff > 0:
        if diff <= config.overpayment_max:
            return OVERPAYMENT, f"{_money(diff, currency)} more than due: left on the customer's account."
        return OVERPAYMENT, f"{_money(diff, currency)} more than due: left on the customer's account to allocate."
    short = -diff
    if converted and short <= due * config.fx_pct / 100:
        return EXCHANGE, f"{_money(short, currency)} less after conversion: booked as an exchange difference."
    for pct in config.discount_pcts:
        expected = (due * pct / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        in_time = all((line.booking_date - i.issue_date).days <= config.discount_days for i in items)
        if in_time and abs(short - expected) <= Decimal("0.02") * len(items):
            return DISCOUNT, (
                f"{_money(short, currency)} less ({pct}%) paid within {config.discount_days} days of the invoice: "
                "booked as early-payment discount."
            )
    if short <= _tolerance(due, config):
        return BANK_FEES, f"{_money(short, currency)} less than due: booked as bank fees."
    return UNDERPAYMENT, ""


MEET_IN_THE_MIDDLE_MAX = 24  # up to this many items, every subset sum is enumerated (2 × 2^12)


def _subset(items: list[OpenItem], target: Decimal, config: MatchConfig) -> tuple[list[OpenItem] | None, bool]:
    """Open items (among the ``combination_max_items`` oldest) whose amounts add up exactly to ``target``:
    (the oldest such set, unique?), between 2 and ``combination_max_size`` items.

    Up to 24 items the search is exhaustive and cheap — meet in the middle: the subset sums of each half are
    enumerated (2^12 at most) and paired through a dict — so "unique" is exact. Beyond, a depth-first search
    over the amounts sorted ascending, pruned by what is left, within ``combination_max_steps``."""
    pool = items[: config.combination_max_items]
    if len(pool) < 2:
        return None, False
    goal = int(target * 100)
    pool = [i for i in pool if 0 < i.open_amount < target]  # a larger one cannot be part of the sum
    if goal <= 0 or len(pool) < 2:
        return None, False
    cents = [int(i.open_amount * 100) for i in pool]
    if len(pool) <= MEET_IN_THE_MIDDLE_MAX:
        solutions = _subset_sums(cents, goal, config.combination_max_size)
        if not solutions:
            return None, False
        return [pool[k] for k in min(solutions)], len(solutions) == 1
    return _subset_search(pool, cents, goal, config)


def _half_sums(cents: list[int], offset: int) -> list[tuple[int, int]]:
    """(sum, bitmask over the whole pool) of every subset of ``cents`` (whose first item is ``offset``)."""
    out = [(0, 0)]
    for k, c in enumerate(cents):
        bit = 1 << (offset + k)
        out += [(s + c, m | bit) for s, m in out]
    return out


def _subset_sums(cents: list[int], goal: int, max_size: int) -> list[tuple[int, ...]]:
    """Every set of 2..max_size indices whose amounts add up to ``goal`` (at most 50 of them)."""
    half = len(cents) // 2
    right: dict[int, list[int]] = defaultdict(list)
    for total, mask in _half_sums(cents[half:], half):
        if total <= goal:
            right[total].append(mask)
    found: list[tuple[int, ...]] = []
    for total, mask in _half_sums(cents[:half], 0):
        if total > goal:
            continue
        for other in right.get(goal - total, ()):
            both = mask | other
            size = both.bit_count()
            if 2 <= size <= max_size:
                found.append(tuple(k for k in range(len(cents)) if both >> k & 1))
                if len(found) >= 50:
                    return found
    return found


def _subset_search(
    pool: list[OpenItem], amounts: list[int], goal: int, config: MatchConfig
) -> tuple[list[OpenItem] | None, bool]:
    order = sorted(range(len(pool)), key=lambda k: (amounts[k], k))
    cents = [amounts[k] for k in order]
    n, max_size = len(cents), config.combination_max_size
    suffix = [0] * (n + 1)
    for k in range(n - 1, -1, -1):
        suffix[k] = suffix[k + 1] + cents[k]
    solutions: list[tuple[int, ...]] = []
    steps = 0
    exhausted = False

    def walk(start: int, left: int, chosen: list[int]) -> bool:
        nonlocal steps, exhausted
        slots = max_size - len(chosen)
        for k in range(start, n):
            steps += 1
            if steps > config.combination_max_steps:
                exhausted = True
                return True
            c = cents[k]
            if c > left or suffix[max(k, n - slots)] < left:
                return False  # ascending: later amounts are larger; the largest allowed fall short
            if c == left:
                if chosen:
                    solutions.append(tuple(sorted(order[j] for j in (*chosen, k))))
                    if len(solutions) >= 2:
                        return True
                continue
            if slots > 1:
                chosen.append(k)
                stop = walk(k + 1, left - c, chosen)
                chosen.pop()
                if stop:
                    return True
        return False

    walk(0, goal, [])
    if not solutions:
        return None, False
    return [pool[k] for k in min(solutions)], len(solutions) == 1 and not exhausted


def _shares(items: list[OpenItem], paid: Decimal) -> tuple[list[Share], Decimal]:
    """Spread ``paid`` over ``items`` in order; returns the shares and what is left over."""
    shares = []
    left = paid
    for item in items:
        if left <= 0:
            break
        amount = min(left, item.open_amount)
        shares.append(Share(item.id, item.number, amount, closes=amount == item.open_amount))
        left -= amount
    return shares, left


def _proposal(
    customer_id: int,
    items: list[OpenItem],
    paid: Decimal,
    line: Line,
    config: MatchConfig,
    rule: str,
    strength: Decimal,
    reasons: list[str],
    converted: bool,
    rate: Decimal | None,
) -> Proposal:
    """Apply ``paid`` to ``items``; a difference within tolerance closes the last item and is explained."""
    due = sum((i.open_amount for i in items), Decimal(0))
    kind, why = _explain_difference(paid, due, items, line, config, converted)
    shares, left = _shares(items, paid)
    difference_document = None
    if kind in WRITE_OFF_KINDS:
        difference_document = shares[-1].document_id if shares else None
        shares = [replace(s, closes=True) for s in shares]
    elif kind == UNDERPAYMENT:
        open_rest = due - paid
        why = f"Partial payment: {_money(paid, items[0].currency)} of {_money(due, items[0].currency)}; " + (
            f"{_money(open_rest, items[0].currency)} stays open."
        )
        # a partial payment of the invoices named is clear; the oldest-first suggestion is already discounted
        strength *= {"referenced": Decimal("0.95"), "oldest_first": Decimal(1)}.get(rule, Decimal("0.6"))
    if kind == OVERPAYMENT and left > config.overpayment_max:
        strength *= Decimal("0.93")
    return Proposal(
        customer_id=customer_id,
        shares=tuple(shares),
        confidence=strength,
        reasons=tuple(reasons + ([why] if why else [])),
        rule=rule,
        currency=items[0].currency,
        amount=paid,
        difference=paid - sum((s.amount for s in shares), Decimal(0)),
        difference_kind=kind,
        difference_document=difference_document,
        rate=rate,
    )


def _in_currency(line: Line, currency: str, convert: Converter | None) -> tuple[Decimal | None, Decimal | None]:
    if line.currency == currency:
        return line.amount, None
    if convert is None:
        return None, None
    amount = convert(line.amount, line.currency, currency, line.booking_date)
    if amount is None:
        return None, None
    return amount, (amount / line.amount).quantize(Decimal("0.000001"))


def _currencies(book: Book, ids: Sequence[int]) -> set[str]:
    """The currencies of open items ``ids`` (one look when they are all in the first one's)."""
    if not ids:
        return set()
    items = book.items
    first = items[ids[0]].currency
    if all(items[i].currency == first for i in ids):
        return {first}
    return {items[i].currency for i in ids}


def propose_for(
    line: Line, customer_id: int, ev: _Evidence, book: Book, config: MatchConfig, convert: Converter | None
) -> list[Proposal]:
    """Document proposals for one candidate customer, per the document rules in order."""
    ids = book.by_customer.get(customer_id, ())
    base = ev.confidence
    reasons = [r for _, _, r in sorted(ev.scores, key=lambda s: (-s[0], s[1]))]
    out: list[Proposal] = []
    # the customer's open items per currency, built only when a rule needs them (the invoices named usually
    # explain the amount: then the pool is never read)
    found_currencies = _currencies(book, ids)
    currencies = sorted(found_currencies, key=lambda c: (c != line.currency, c))

    def pool_of(currency: str) -> list[OpenItem]:
        items = [book.items[i] for i in ids]
        return items if len(currencies) == 1 else [i for i in items if i.currency == currency]

    for currency in currencies:
        pool: list[OpenItem] = []
        pool_read = False
        paid, rate = _in_currency(line, currency, convert)
        if paid is None:
            continue
        converted = rate is not None
        conv = [f"Converted from {_money(line.amount, line.currency)} at the rate of {line.booking_date} ({rate})."]
        extra = conv if converted else []
        named_ids = set(ev.documents)
        for rule in config.document_rules:
            # once a proposal explains the whole amount, the costlier rules have nothing to add
            explained = any(p.difference_kind != UNDERPAYMENT and p.shares for p in out)
            if rule in ("combination", "oldest_first") and explained:
                continue
            if rule == "exact_amount" and any(
                p.rule == "referenced" and p.difference_kind != UNDERPAYMENT for p in out
            ):
                continue  # the invoices named account for the amount
            if rule != "referenced" and not pool_read:
                pool, pool_read = pool_of(currency), True
            if rule == "referenced":
                named = [book.items[i] for i in ev.documents if i in book.items and book.items[i].currency == currency]
                if not named:
                    continue
                named.sort(key=lambda i: (i.due_date, i.number))
                out.append(
                    _proposal(customer_id, named, paid, line, config, rule, base, reasons + extra, converted, rate)
                )
            elif rule == "exact_amount":
                tol = paid * config.fx_pct / 100 if converted else Decimal(0)
                same = [i for i in pool if abs(i.open_amount - paid) <= tol]
                if not same:
                    continue
                unique = len(same) == 1
                why = (
                    f"The amount equals the open amount of {same[0].number}."
                    if unique
                    else f"The amount equals the open amount of {len(same)} invoices: the oldest, {same[0].number}."
                )
                factor = Decimal("0.97") if unique else Decimal("0.7")
                if named_ids and same[0].id not in named_ids:
                    factor *= Decimal("0.8")  # the text names other invoices
                    why += " The transfer text names other invoices."
                out.append(
                    _proposal(customer_id, [same[0]], paid, line, config, rule, base * factor,
                              reasons + extra + [why], converted, rate)
                )  # fmt: skip
            elif rule == "combination":
                if converted:
                    continue  # an exact sum of several converted amounts is not to be expected
                subset, unique = _subset(pool, paid, config)
                if subset is None:
                    continue
                why = (
                    f"The amount equals the sum of {len(subset)} open invoices ({', '.join(i.number for i in subset)})."
                )
                factor = Decimal("0.95") if unique else Decimal("0.65")
                if named_ids and not named_ids & {i.id for i in subset}:
                    factor *= Decimal("0.8")
                if not unique:
                    why += " Other combinations add up too: the oldest is proposed."
                out.append(
                    _proposal(
                        customer_id, subset, paid, line, config, rule, base * factor, reasons + [why], False, rate
                    )
                )
            elif rule == "oldest_first" and pool:
                why = "No invoice matches the amount: the oldest open invoices are proposed."
                out.append(
                    _proposal(customer_id, pool, paid, line, config, rule, base * Decimal("0.5"),
                              reasons + extra + [why], converted, rate)
                )  # fmt: skip
    if not ids:
        out.append(
            Proposal(
                customer_id=customer_id,
                shares=(),
                confidence=base * Decimal("0.5"),
                reasons=tuple([*reasons, "The customer has no open invoice: the payment stays on their account."]),
                rule="on_account",
                currency=line.currency,
                amount=line.amount,
                difference=line.amount,
                difference_kind=OVERPAYMENT,
            )
        )
    return out


def match_line(line: Line, book: Book, config: MatchConfig, *, convert: Converter | None = None) -> Match:
    """Ranked proposals for one incoming credit and the decision: ``auto`` when the best is sure enough and
    clearly ahead of any other customer's, ``review`` when there is a plausible one, else ``unidentified``."""
    if line.amount <= 0:
        return Match(line.id, UNIDENTIFIED)
    candidates = identify(line, book, config)
    ranked = sorted(candidates.items(), key=lambda kv: (-kv[1].confidence, kv[1].rank, kv[0]))[:3]
    proposals: list[Proposal] = []
    for customer_id, ev in ranked:
        proposals.extend(propose_for(line, customer_id, ev, book, config, convert))
    quant = Decimal("0.001")
    proposals = [replace(p, confidence=min(p.confidence, Decimal(1)).quantize(quant)) for p in proposals]
    proposals.sort(key=lambda p: (-p.confidence, len(p.shares) == 0))
    unique: list[Proposal] = []
    seen: set[tuple[Any, ...]] = set()
    for p in proposals:
        key = (p.customer_id, tuple((s.document_id, s.amount) for s in p.shares))
        if key not in seen:
            seen.add(key)
            unique.append(p)
    proposals = unique[:5]
    if not proposals or proposals[0].confidence < config.review_threshold:
        return Match(line.id, UNIDENTIFIED, tuple(proposals))
    best = proposals[0]
    rivals = [p for p in proposals[1:] if p.customer_id != best.customer_id]
    clear = not rivals or best.confidence - rivals[0].confidence >= Decimal("0.15")
    if best.confidence >= config.auto_threshold and clear and best.shares:
        return Match(line.id, AUTO, tuple(proposals))
    return Match(line.id, REVIEW, tuple(proposals))


def match_lines(
    lines: Sequence[Line], book: Book, config: MatchConfig, *, convert: Converter | None = None
) -> list[Match]:
    """Match lines in order (booking date, then id); what an automatic match applies is taken off the book so a
    later line does not pay the same invoice twice."""
    out = []
    for line in sorted(lines, key=lambda x: (x.booking_date, x.id)):
        result = match_line(line, book, config, convert=convert)
        if result.decision == AUTO and result.best is not None:
            book.take(result.best.shares)
        out.append(result)
    return out
