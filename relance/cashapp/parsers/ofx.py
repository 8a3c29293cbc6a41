"""OFX (Open Financial Exchange) 1.x SGML and 2.x XML bank statements, read with ``ofxparse``.

One statement per account (``STMTRS``). OFX has no IBAN: the account is ``BANKID``/``ACCTID``, so the company is
given with ``--company`` unless the ACCTID is itself a registered IBAN. The booking date is the date written in
``DTPOSTED`` (the bank's local day), not the UTC instant ofxparse computes from it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
from decimal import Decimal
from typing import Any

from .base import BAD_FILE, OFX, Balance, ParsedLine, ParsedStatement, StatementParseError, clean_iban, squash

# OFX transaction types of returns and reversals are not standard; these words in the name or memo say so.
RETURN_WORDS = ("RETURNED", "REVERSAL", "CHARGEBACK", "NSF", "UNPAID")
_FIELDS = ("trntype", "dtposted", "dtuser", "dtavail", "trnamt", "fitid", "correctfitid", "correctaction",
           "srvrtid", "checknum", "refnum", "sic", "payeeid", "name", "memo", "currency", "origcurrency")  # fmt: skip


def _parser() -> Any:
    from ofxparse import OfxParser

    class RawKeepingParser(OfxParser):
        """ofxparse, keeping each transaction's tags as written (for the raw record and the local date)."""

        @classmethod
        def parseTransaction(cls, txn_ofx: Any) -> Any:  # noqa: N802 - the library's name
            transaction = super().parseTransaction(txn_ofx)
            raw: dict[str, str] = {}
            for name in _FIELDS:
                tag = txn_ofx.find(name)
                if tag is not None and getattr(tag, "contents", None):
                    raw[name.upper()] = str(tag.contents[0]).strip()
            bank_to = txn_ofx.find("bankacctto")
            if bank_to is not None:
                for name in ("bankid", "branchid", "acctid"):
                    tag = bank_to.find(name)
                    if tag is not None and getattr(tag, "contents", None):
                        raw[f"BANKACCTTO.{name.upper()}"] = str(tag.contents[0]).strip()
            transaction.raw = raw
            return transaction

    return RawKeepingParser


def _local_date(text: str) -> dt.date | None:
    match = re.match(r"^(\d{8})", text or "")
    return dt.datetime.strptime(match.group(1), "%Y%m%d").date() if match else None


def parse(data: bytes, *, file: str = "<input>") -> list[ParsedStatement]:
    parser = _parser()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4 warns that it reads XML with its HTML parser: ofxparse's choice
            ofx = parser.parse(io.BytesIO(data), fail_fast=True)
    except Exception as exc:  # ofxparse raises its own and bs4's errors
        raise StatementParseError(BAD_FILE.format(file=file, where="OFX", reason=str(exc) or type(exc).__name__))
    out: list[ParsedStatement] = []
    for index, account in enumerate(ofx.accounts, start=1):
        statement = getattr(account, "statement", None)
        if statement is None:
            continue
        currency = (getattr(statement, "currency", "") or getattr(account, "curdef", "") or "").upper()
        lines = []
        for n, tx in enumerate(statement.transactions, start=1):
            raw = getattr(tx, "raw", {})
            booking = _local_date(raw.get("DTPOSTED", "")) or (tx.date.date() if tx.date else None)
            if booking is None:
                raise StatementParseError(
                    BAD_FILE.format(file=file, where=f"account {index}, transaction {n}", reason="no DTPOSTED date")
                )
            name, memo = squash(tx.payee), squash(tx.memo)
            text = f"{name} {memo}".upper()
            line = ParsedLine(
                amount=Decimal(tx.amount),
                currency=(raw.get("CURRENCY") or currency).upper()[:3] or currency,
                booking_date=booking,
                value_date=_local_date(raw.get("DTAVAIL", "")) or _local_date(raw.get("DTUSER", "")),
                counterparty_name=name,
                remittance=memo,
                bank_reference=squash(tx.id),
                entry_reference=squash(raw.get("REFNUM", "") or raw.get("CHECKNUM", "")),
                transaction_code=(tx.type or "").upper(),
                # "RETURNED CHECK FEE" is a fee for a return, not the return itself
                is_reversal=(any(w in text for w in RETURN_WORDS) and "FEE" not in text)
                or bool(raw.get("CORRECTFITID")),
                raw=raw,
            )
            if raw.get("BANKACCTTO.ACCTID"):
                line.counterparty_account = raw["BANKACCTTO.ACCTID"]
            lines.append(line)
        balance = getattr(statement, "balance", None)
        balance_date = getattr(statement, "balance_date", None)
        closing = (
            Balance(Decimal(balance), currency, balance_date.date() if balance_date else None)
            if balance is not None
            else None
        )
        account_id = squash(account.account_id)
        iban, ok = clean_iban(account_id)
        start, end = getattr(statement, "start_date", None), getattr(statement, "end_date", None)
        out.append(
            ParsedStatement(
                format=OFX,
                version=str(getattr(ofx, "headers", {}).get("VERSION", "") if hasattr(ofx, "headers") else ""),
                statement_id=f"{account.routing_number or ''}/{account_id}:{start.date() if start else ''}"
                f"..{end.date() if end else ''}",
                account_id=f"{account.routing_number}/{account_id}" if account.routing_number else account_id,
                account_iban=iban if ok and len(account_id) > 14 else "",
                currency=currency,
                opening=None,
                closing=closing,
                lines=lines,
                raw={
                    "account_type": str(getattr(account, "account_type", "") or ""),
                    "branch": str(getattr(account, "branch_id", "") or ""),
                },
            )
        )
    if not out:
        raise StatementParseError(BAD_FILE.format(file=file, where="OFX", reason="no bank statement (STMTRS) in it"))
    return out
