"""French CFONB 120 account statements ("relevé de compte 120 caractères"), written here: no library reads it well.

Records (positions 1-based, as in the CFONB brochure):

* ``01`` old balance and ``07`` new balance: bank 3–7, branch 12–16, currency 17–19, decimals 20, account 22–32,
  date 35–40 (DDMMYY), amount 91–104;
* ``04`` movement: internal operation code 8–11, interbank operation code 33–34, booking date 35–40, reject
  reason code 41–42, value date 43–48, label 49–79, entry number 82–88, amount 91–104, reference 105–120;
* ``05`` complement of the movement before it: qualifier 46–48 (``LIB`` label, ``NPY``/``IPY`` payer name and id,
  ``NBE``/``IBE`` payee name and id, ``LCC``/``LC2`` remittance, ``LCS`` structured remittance, ``RCN`` the
  payer's end-to-end reference, ``RUM`` mandate…), text 49–118.

Amounts carry their sign in the last character (overpunch): ``{`` and ``A``–``I`` are +0..+9, ``}`` and
``J``–``R`` are −0..−9. The account's IBAN is derived from bank, branch and account (the RIB key computed).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from .base import (
    BAD_FILE,
    CFONB120,
    Balance,
    ParsedLine,
    ParsedStatement,
    StatementParseError,
    set_counterparty,
    squash,
)

POSITIVE = {"{": 0, **{chr(ord("A") + i): i + 1 for i in range(9)}}
NEGATIVE = {"}": 0, **{chr(ord("J") + i): i + 1 for i in range(9)}}
# Labels of returned or rejected operations ("impayé", "rejet", "retour"); a reject reason code (41–42) also says so.
RETURN_WORDS = ("IMPAYE", "IMPAYÉ", "REJET", "RETOUR", "ANNUL", "REGUL PRLV", "RET PRLV", "RET VIR")


def overpunch(text: str, decimals: int, *, where: str, file: str) -> Decimal:
    """``0000000010401G`` with 2 decimals → Decimal('1040.17'); ``…199R`` → −19.99."""
    text = text.strip()
    if not text:
        raise StatementParseError(BAD_FILE.format(file=file, where=where, reason="the amount is empty"))
    last = text[-1]
    if last in POSITIVE:
        sign, digit = 1, POSITIVE[last]
    elif last in NEGATIVE:
        sign, digit = -1, NEGATIVE[last]
    elif last.isdigit():
        sign, digit = 1, int(last)
    else:
        raise StatementParseError(
            BAD_FILE.format(file=file, where=where, reason=f"{text!r} does not end with a sign character")
        )
    digits = text[:-1] + str(digit)
    if not digits.isdigit():
        raise StatementParseError(BAD_FILE.format(file=file, where=where, reason=f"{text!r} is not an amount"))
    return sign * Decimal(digits).scaleb(-decimals)


def _date(text: str, *, where: str, file: str) -> dt.date | None:
    text = text.strip()
    if not text or text == "000000":
        return None
    try:
        return dt.datetime.strptime(text, "%d%m%y").date()
    except ValueError:
        raise StatementParseError(BAD_FILE.format(file=file, where=where, reason=f"{text!r} is not a date (DDMMYY)"))


def _iban(bank: str, branch: str, account: str) -> str:
    try:
        return IBAN.generate("FR", bank_code=bank, branch_code=branch, account_code=account).compact
    except SchwiftyException:
        return ""


class _Open:
    """The statement being read."""

    def __init__(self, record: str, file: str, where: str) -> None:
        self.bank, self.branch, self.account = record[2:7], record[11:16], record[21:32].strip()
        self.currency = record[16:19].strip()
        self.decimals = int(record[19]) if record[19].isdigit() else 2
        amount = overpunch(record[90:104], self.decimals, where=where, file=file)
        self.opening = Balance(amount, self.currency, _date(record[34:40], where=where, file=file))
        self.lines: list[ParsedLine] = []
        self.details: list[list[tuple[str, str, str]]] = []  # per line: (qualifier, text, record)


LABEL_PREFIXES = ("VIR SEPA INST ", "VIR SEPA ", "VIR INST ", "VIR ", "PRLV SEPA ", "PRLV ", "REM CHQ ", "CHQ ")


def _name_from_label(label: str) -> str:
    """The other party's name from the movement label (``VIR DGA FRANCE`` → ``DGA FRANCE``) when no 05 gives it."""
    upper = label.upper()
    for prefix in LABEL_PREFIXES:
        if upper.startswith(prefix):
            return label[len(prefix) :].strip()
    return ""


def _finish_line(line: ParsedLine, details: list[tuple[str, str, str]]) -> None:
    values: dict[str, list[str]] = {}
    for qualifier, text, _ in details:
        values.setdefault(qualifier, []).append(text)

    def first(key: str) -> str:
        return values.get(key, [""])[0]

    remittance = " ".join(values.get("LCC", []) + values.get("LC2", []))
    labels = [t for t in values.get("LIB", []) if t != remittance]
    line.remittance = squash(remittance or " ".join(labels))
    line.additional_info = squash(" ".join([line.additional_info, *(labels if remittance else [])]))
    line.creditor_reference = squash(" ".join(values.get("LCS", [])))
    line.end_to_end_id = squash(first("RCN"))
    line.mandate_id = squash(first("RUM").split("  ")[0])
    # money in: the payer (NPY/IPY) is the counterparty; money out: the payee (NBE/IBE)
    name_key, id_key = ("NPY", "IPY") if line.amount > 0 else ("NBE", "IBE")
    line.counterparty_name = squash(first(name_key)) or _name_from_label(line.additional_info)
    other_id = squash(first(id_key).split("  ")[0])
    if other_id:
        set_counterparty(line, account=other_id)
    line.raw["details"] = [record for _, _, record in details]


def parse(data: bytes, *, file: str = "<input>") -> list[ParsedStatement]:
    text = data.decode("latin-1")
    statements: list[ParsedStatement] = []
    current: _Open | None = None
    records = [r for r in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if r.strip()]
    if len(records) == 1 and len(records[0]) > 120 and len(records[0]) % 120 == 0:  # no line breaks
        records = [records[0][i : i + 120] for i in range(0, len(records[0]), 120)]
    for number, record in enumerate(records, start=1):
        where = f"record {number}"
        record = record.ljust(120)
        code = record[:2]
        if code == "01":
            if current is not None:
                raise StatementParseError(
                    BAD_FILE.format(file=file, where=where, reason="a new statement (01) before the previous one's 07")
                )
            current = _Open(record, file, where)
        elif code == "04":
            if current is None:
                raise StatementParseError(
                    BAD_FILE.format(file=file, where=where, reason="a movement (04) outside a statement")
                )
            amount = overpunch(record[90:104], current.decimals, where=where, file=file)
            label = squash(record[48:79])
            reject = record[40:42].strip()
            interbank = record[32:34].strip()
            booking = _date(record[34:40], where=where, file=file)
            if booking is None:
                raise StatementParseError(BAD_FILE.format(file=file, where=where, reason="the movement has no date"))
            line = ParsedLine(
                amount=amount,
                currency=record[16:19].strip() or current.currency,
                booking_date=booking,
                value_date=_date(record[42:48], where=where, file=file),
                additional_info=label,
                counterparty_name="",
                entry_reference=record[81:88].strip().lstrip("0"),
                bank_reference=record[104:120].strip(),
                transaction_code=interbank,
                is_reversal=bool(reject) or any(w in label.upper() for w in RETURN_WORDS),
                return_reason=reject,
                raw={"record": record.rstrip(), "internal_code": record[7:11].strip(), "interbank_code": interbank},
            )
            current.lines.append(line)
            current.details.append([])
        elif code == "05":
            if current is None or not current.lines:
                raise StatementParseError(
                    BAD_FILE.format(file=file, where=where, reason="a complement (05) without a movement before it")
                )
            current.details[-1].append((record[45:48], record[48:118].rstrip(), record.rstrip()))
        elif code == "07":
            if current is None:
                raise StatementParseError(
                    BAD_FILE.format(file=file, where=where, reason="a new balance (07) without 01")
                )
            closing = Balance(
                overpunch(record[90:104], current.decimals, where=where, file=file),
                current.currency,
                _date(record[34:40], where=where, file=file),
            )
            for line, details in zip(current.lines, current.details, strict=True):
                _finish_line(line, details)
            iban = _iban(current.bank, current.branch, current.account)
            statements.append(
                ParsedStatement(
                    format=CFONB120,
                    statement_id=f"{current.bank}{current.branch}{current.account}:{closing.date or ''}",
                    account_id=f"{current.bank} {current.branch} {current.account}",
                    account_iban=iban,
                    currency=current.currency,
                    opening=current.opening,
                    closing=closing,
                    lines=current.lines,
                )
            )
            current = None
        else:
            raise StatementParseError(
                BAD_FILE.format(file=file, where=where, reason=f"unknown record code {code!r} (01, 04, 05, 07)")
            )
    if current is not None:
        raise StatementParseError(
            BAD_FILE.format(file=file, where="end", reason="the last statement has no new balance (07)")
        )
    if not statements:
        raise StatementParseError(BAD_FILE.format(file=file, where="start", reason="no statement (01 … 07)"))
    return statements
