"""What every statement parser returns: plain dataclasses, amounts as exact Decimals, signed (+ credit, − debit).

Parsers are pure: bytes in, :class:`ParsedStatement` values out. They never touch the database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

# Formats, as stored on a statement.
CAMT053 = "camt.053"
CAMT052 = "camt.052"
CAMT054 = "camt.054"
MT940 = "mt940"
CFONB120 = "cfonb120"
OFX = "ofx"
FORMATS = (CAMT053, CAMT052, CAMT054, MT940, CFONB120, OFX)

# Flags set on a line (kept with it, shown to the user).
INVALID_IBAN = "invalid_counterparty_iban"
INVALID_BIC = "invalid_counterparty_bic"

UNKNOWN_FORMAT = (
    "{file}: not a bank statement this version reads (camt.052/053/054 XML, MT940, CFONB 120 or OFX): {reason}."
)
BAD_FILE = "{file}: {where}: {reason}."


class StatementParseError(ValueError):
    """The file cannot be read; the message names the file, where, and what is wrong."""


@dataclass(frozen=True, slots=True)
class Balance:
    amount: Decimal  # signed: negative when the account is overdrawn
    currency: str
    date: dt.date | None


@dataclass(slots=True)
class ParsedLine:
    """One booked movement as the bank reported it."""

    amount: Decimal  # signed: + credit (money in), − debit
    currency: str
    booking_date: dt.date
    value_date: dt.date | None = None
    counterparty_name: str = ""
    counterparty_iban: str = ""
    counterparty_bic: str = ""
    counterparty_account: str = ""  # a non-IBAN account identification, as written
    remittance: str = ""  # unstructured remittance information
    creditor_reference: str = ""  # structured creditor reference (RF…, SCOR, ISR…)
    additional_info: str = ""  # additional entry/transaction information, bank labels
    end_to_end_id: str = ""
    bank_reference: str = ""  # the account servicer's reference (camt AcctSvcrRef, MT940 //ref, OFX FITID…)
    entry_reference: str = ""  # the entry's own reference (camt NtryRef, MT940 customer reference, CFONB number)
    instruction_id: str = ""
    mandate_id: str = ""
    transaction_code: str = ""  # camt Domn-Fmly-SubFmly or proprietary code, MT940 type/GVC, CFONB code, OFX type
    is_reversal: bool = False  # a return, reject or reversal of an earlier movement
    return_reason: str = ""  # ISO/bank reason code when given (AC06, MS02…)
    raw: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def text(self) -> str:
        """Every free text of the line, for searching references."""
        parts = (self.remittance, self.creditor_reference, self.additional_info, self.end_to_end_id)
        return " ".join(p for p in parts if p)


@dataclass(slots=True)
class ParsedStatement:
    format: str
    statement_id: str
    account_id: str  # as written in the file (an IBAN, a national number, an OFX ACCTID)
    account_iban: str  # the account's IBAN when the file gives it or it can be derived; else ""
    currency: str
    opening: Balance | None = None
    closing: Balance | None = None
    account_bic: str = ""
    lines: list[ParsedLine] = field(default_factory=list)
    version: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def clean_iban(value: str) -> tuple[str, bool]:
    """(compact IBAN, valid). An invalid one is returned as written (spaces removed), flagged by ``valid``."""
    text = "".join((value or "").split()).upper()
    if not text:
        return "", True
    try:
        return IBAN(text).compact, True
    except SchwiftyException:
        return text, False


def clean_bic(value: str) -> tuple[str, bool]:
    text = "".join((value or "").split()).upper()
    if not text:
        return "", True
    try:
        return str(BIC(text).compact), True
    except SchwiftyException:
        return text, False


def looks_like_iban(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", "".join((value or "").split()).upper()))


def set_counterparty(line: ParsedLine, *, iban: str = "", bic: str = "", account: str = "") -> None:
    """Validate the counterparty's IBAN and BIC with schwifty; invalid values are kept raw and flagged."""
    if iban:
        line.counterparty_iban, ok = clean_iban(iban)
        if not ok:
            line.flags.append(INVALID_IBAN)
    if bic:
        line.counterparty_bic, ok = clean_bic(bic)
        if not ok:
            line.flags.append(INVALID_BIC)
    if account:
        line.counterparty_account = account.strip()


def squash(text: str | None) -> str:
    """Whitespace runs to one space, trimmed."""
    return " ".join((text or "").split())
