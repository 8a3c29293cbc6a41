"""SWIFT MT940 customer statements, read with the ``mt-940`` library (tags, amounts, dates with their years).

The file is cut into messages (each opens with ``:20:``) so each statement keeps its own account and balances.
What the library leaves as free text is read here:

* the sign: ``D`` and ``RC`` (reversal of a credit) are debits, ``C`` and ``RD`` credits;
* ``:86:`` in the German structured layout (``?00`` posting text, ``?20``–``?29`` purpose with the SEPA keys
  ``EREF+``, ``KREF+``, ``MREF+``, ``SVWZ+``, ``?30`` BIC, ``?31`` IBAN, ``?32``–``?33`` name, ``?34`` return key);
* ``:86:`` in the SWIFT structured layout (``/EREF/``, ``/NAME/``, ``/IBAN/``, ``/BIC/``, ``/REMI/``, ``/RTRN/``…),
  as Dutch and Belgian banks write it.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import mt940

from .base import (
    BAD_FILE,
    MT940,
    Balance,
    ParsedLine,
    ParsedStatement,
    StatementParseError,
    clean_iban,
    looks_like_iban,
    set_counterparty,
    squash,
)

NO_REFERENCE = frozenset({"", "NONREF", "EREF", "NOTPROVIDED", "KREF", "MREF"})
# German business transaction codes (GVC) of returns: 108/109 SEPA direct debit reversal and return,
# 159 SEPA credit transfer return, 181/184 SEPA (B2B) direct debit returns.
GVC_RETURNS = frozenset({"108", "109", "159", "181", "184"})
RETURN_WORDS = ("RETOURE", "RUECKLASTSCHRIFT", "RÜCKLASTSCHRIFT", "STORNO", "RUECKUEBERWEISUNG", "RETURN", "REVERSAL")
SEPA_KEYS = ("EREF", "KREF", "MREF", "CRED", "DEBT", "SVWZ", "ABWA", "ABWE", "COAM", "OAMT", "IBAN", "BIC")
SWIFT_CODES = (
    "RTRN", "EREF", "PREF", "MARF", "CSID", "CNTP", "BENM", "ORDP", "NAME", "IBAN", "BIC", "REMI", "ADDR", "ISDT",
    "TRCD", "TRTP", "BUSP", "PURP", "ULTC", "ULTD", "SVCL", "CD", "USTD", "STRD", "CDTRREFTP", "CDTRREF", "ISSR",
)  # fmt: skip
_TAG = re.compile(r"(?m)^:(\d\d[A-Z]?):")


def _messages(text: str) -> list[str]:
    """Each statement message of the file, from its ``:20:`` to its last tag (envelopes and '-' trailers cut)."""
    starts = [m.start() for m in re.finditer(r"(?m)^:20:", text)]
    out = []
    for i, start in enumerate(starts):
        chunk = text[start : starts[i + 1] if i + 1 < len(starts) else len(text)]
        chunk = re.split(r"(?m)^-\}?\s*$", chunk)[0]
        out.append(chunk.rstrip() + "\n")
    return out


def _raw_tags(chunk: str) -> list[dict[str, str]]:
    """Per transaction, the text of its ``:61:`` and ``:86:`` tags as written."""
    marks = list(_TAG.finditer(chunk))
    items: list[dict[str, str]] = []
    for i, m in enumerate(marks):
        body = chunk[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(chunk)].rstrip("\r\n")
        if m.group(1) == "61":
            items.append({"61": body})
        elif m.group(1) == "86" and items and "86" not in items[-1]:
            items[-1]["86"] = body
    return items


def _gvc(details: str) -> dict[str, str]:
    """German structured ``:86:``: ``NNN?00text?20…`` → {"code": NNN, "00": …, "20": …} (lines joined)."""
    flat = details.replace("\r", "").replace("\n", "")
    if not re.match(r"^\d{3}\?", flat):
        return {}
    out = {"code": flat[:3]}
    for key, value in re.findall(r"\?(\d\d)([^?]*)", flat[3:]):
        out[key] = out.get(key, "") + value
    return out


def _gvc_fields(g: dict[str, str]) -> dict[str, str]:
    """Purpose subfields in order: one starting with a SEPA key (``EREF+``) opens a keyed segment, one starting
    with a bank note (``MTLG:``) a free one; any other continues the segment before it (27 characters each)."""
    keyed: dict[str, str] = {}
    free: list[str] = []
    current: str | None = None  # the key being continued, or None for free text
    for sub in [*(str(n) for n in range(20, 30)), "60", "61", "62", "63"]:
        value = g.get(sub, "")
        if not value:
            continue
        key = re.match(r"^(" + "|".join(SEPA_KEYS) + r")\+", value)
        if key:
            current = key.group(1)
            keyed[current] = keyed.get(current, "") + value[key.end() :]
        elif re.match(r"^[A-Z]{4}:", value) or current is None:
            current = None
            free.append(value)
        else:
            keyed[current] += value
    free_text = squash("".join(free))
    remittance = keyed.get("SVWZ", "") or free_text
    return {
        "posting_text": g.get("00", ""),
        "remittance": squash(remittance),
        "additional": free_text if keyed.get("SVWZ") else "",
        "eref": squash(keyed.get("EREF", "")),
        "kref": squash(keyed.get("KREF", "")),
        "mref": squash(keyed.get("MREF", "")),
        "bic": squash(g.get("30", "")),
        "account": squash(g.get("31", "")),
        "name": squash(g.get("32", "") + g.get("33", "")),
        "return_key": squash(g.get("34", "")),
    }


def _swift_structured(details: str) -> dict[str, str]:
    """SWIFT structured ``:86:`` (``/CODE/value/CODE/value``) → {CODE: value}; {} when not structured."""
    flat = details.replace("\r", "").replace("\n", "")
    if not flat.startswith("/"):
        return {}
    pattern = r"/(" + "|".join(SWIFT_CODES) + r")/"
    parts = re.split(pattern, flat)
    if len(parts) < 3 or parts[0].strip():
        return {}
    out: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=False):
        out.setdefault(key, value.strip("/ ").strip())
    # /BENM//NAME/x and /ORDP//NAME/x put the name under NAME
    return out


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None or value == "":
            continue
        if hasattr(value, "amount") and hasattr(value, "currency"):
            out[key] = {"amount": str(value.amount), "currency": value.currency}
        elif isinstance(value, dt.date):
            out[key] = dt.date(value.year, value.month, value.day).isoformat()
        elif isinstance(value, Decimal):
            out[key] = str(value)
        else:
            out[key] = str(value) if not isinstance(value, str | int | bool) else value
    return out


def _balance(value: Any) -> Balance | None:
    if value is None:
        return None
    amount = value.amount
    return Balance(Decimal(amount.amount), amount.currency, dt.date(value.date.year, value.date.month, value.date.day))


def _ref(value: Any) -> str:
    text = squash(str(value or "")).rstrip("+")
    return "" if text.upper() in NO_REFERENCE else text


def _line(data: dict[str, Any], raw: dict[str, str], currency: str) -> ParsedLine:
    status = str(data.get("status") or "")
    magnitude = abs(Decimal(data["amount"].amount))
    debit = status in ("D", "RC")
    value_date = data.get("date")
    entry_date = data.get("entry_date") or value_date
    details = raw.get("86", "") or str(data.get("transaction_details") or "")
    line = ParsedLine(
        amount=-magnitude if debit else magnitude,
        currency=data["amount"].currency or currency,
        booking_date=dt.date(entry_date.year, entry_date.month, entry_date.day),
        value_date=dt.date(value_date.year, value_date.month, value_date.day) if value_date else None,
        bank_reference=_ref(data.get("bank_reference")),
        entry_reference=_ref(str(data.get("customer_reference") or "").split("\n")[0]),
        transaction_code=str(data.get("id") or ""),
        is_reversal=status in ("RC", "RD"),
    )
    extra = squash(str(data.get("extra_details") or ""))
    gvc = _gvc(details)
    swift = _swift_structured(details) if not gvc else {}
    if gvc:
        f = _gvc_fields(gvc)
        line.transaction_code = f"{line.transaction_code}/{gvc['code']}"
        line.remittance, line.additional_info = f["remittance"], squash(f"{f['posting_text']} {f['additional']}")
        line.end_to_end_id, line.mandate_id = _ref(f["eref"]), f["mref"]
        line.entry_reference = line.entry_reference or _ref(f["kref"])
        line.counterparty_name = f["name"]
        account = f["account"]
        iban = account if looks_like_iban(account) else ""
        set_counterparty(line, iban=iban, bic=f["bic"] if re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2,5}", f["bic"]) else "")
        if not iban and account:
            line.counterparty_account = account
        if gvc["code"] in GVC_RETURNS or any(w in f["posting_text"].upper() for w in RETURN_WORDS):
            line.is_reversal = True
            line.return_reason = f["return_key"]
    elif swift:
        line.remittance = swift.get("REMI", "").removeprefix("/")
        line.remittance = squash(re.sub(r"^(USTD|STRD)//?", "", line.remittance))
        line.end_to_end_id = _ref(swift.get("EREF", ""))
        line.mandate_id = swift.get("MARF", "")
        line.counterparty_name = swift.get("NAME", "")
        line.creditor_reference = swift.get("CDTRREF", "")
        iban = swift.get("IBAN", "") or swift.get("CNTP", "").split("/")[0]
        set_counterparty(line, iban=iban if looks_like_iban(iban) else "", bic=swift.get("BIC", ""))
        line.additional_info = squash(swift.get("TRTP", ""))
        if "RTRN" in swift:
            line.is_reversal, line.return_reason = True, swift["RTRN"].split("/")[0]
    else:
        line.remittance = squash(details)
    if extra and not line.counterparty_iban and looks_like_iban(extra):
        set_counterparty(line, iban=extra)
    elif extra:
        line.additional_info = squash(f"{line.additional_info} {extra}")
    if not line.is_reversal and any(w in details.upper() for w in RETURN_WORDS[:2]):
        line.is_reversal = True
    line.raw = {"tags": raw, "parsed": _jsonable({k: v for k, v in data.items() if k != "transaction_details"})}
    return line


def parse(data: bytes, *, file: str = "<input>") -> list[ParsedStatement]:
    text = data.decode("utf-8") if _is_utf8(data) else data.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[ParsedStatement] = []
    for index, chunk in enumerate(_messages(text), start=1):
        transactions = mt940.models.Transactions()
        try:
            transactions.parse(chunk)
        except Exception as exc:  # the library raises bare exceptions with the offending tag
            raise StatementParseError(BAD_FILE.format(file=file, where=f"statement {index}", reason=str(exc)))
        head = transactions.data
        opening = _balance(head.get("final_opening_balance") or head.get("intermediate_opening_balance"))
        closing = _balance(head.get("final_closing_balance") or head.get("intermediate_closing_balance"))
        currency = (opening or closing).currency if (opening or closing) else ""
        raws = _raw_tags(chunk)
        items = list(transactions)
        if len(raws) != len(items):
            raws = [{} for _ in items]
        lines = [_line(t.data, r, currency) for t, r in zip(items, raws, strict=True)]
        account = squash(str(head.get("account_identification") or ""))
        iban, ok = clean_iban(account.split("/")[0]) if looks_like_iban(account.split("/")[0]) else ("", False)
        number = "/".join(str(head[k]) for k in ("statement_number", "sequence_number") if head.get(k))
        out.append(
            ParsedStatement(
                format=MT940,
                statement_id=f"{head.get('transaction_reference', '')}:{number}".strip(":"),
                account_id=account,
                account_iban=iban if ok else "",
                currency=currency or (lines[0].currency if lines else ""),
                opening=opening,
                closing=closing,
                lines=lines,
                raw={"reference": str(head.get("transaction_reference") or ""), "number": number},
            )
        )
    if not out:
        raise StatementParseError(BAD_FILE.format(file=file, where="start", reason="no MT940 statement (:20:) found"))
    return out


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
