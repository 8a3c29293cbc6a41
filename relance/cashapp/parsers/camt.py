"""ISO 20022 bank-to-customer cash management: camt.053 (statement), camt.052 (report), camt.054 (notification).

Any version: elements are looked up by local name, so ``camt.053.001.02`` and ``camt.053.001.08`` (where
parties moved under ``Pty``, ``BIC`` became ``BICFI`` and ``Sts`` gained a ``Cd``) read alike.

One line per transaction (``TxDtls``) when an entry's transactions carry their own amounts that add up to the
entry (a batch); otherwise one line per entry, with the texts of all its transactions.
Only booked entries are read (status ``BOOK``; ``PDNG`` and ``INFO`` entries are not movements yet).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from .base import (
    BAD_FILE,
    CAMT052,
    CAMT053,
    CAMT054,
    Balance,
    ParsedLine,
    ParsedStatement,
    StatementParseError,
    clean_bic,
    clean_iban,
    set_counterparty,
    squash,
)

# Bank transaction sub-families that report a return, reject or reversal (ISO 20022 external code list).
RETURN_SUBFAMILIES = frozenset({"RRTN", "UPDD", "RPCR", "UPCQ", "ARET", "AREV", "PRDD"})
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)
NOT_BOOKED = frozenset({"PDNG", "INFO", "FUTR"})

_KINDS = {
    "BkToCstmrStmt": ("Stmt", CAMT053),
    "BkToCstmrAcctRpt": ("Rpt", CAMT052),
    "BkToCstmrDbtCdtNtfctn": ("Ntfctn", CAMT054),
}


def _local(el: Any) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _kids(el: Any, name: str) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str) and _local(c) == name] if el is not None else []


def _find(el: Any, path: str) -> Any:
    """The first element along ``path`` (local names separated by /), or None."""
    for name in path.split("/"):
        if el is None:
            return None
        found = _kids(el, name)
        el = found[0] if found else None
    return el


def _text(el: Any, path: str = "") -> str:
    node = _find(el, path) if path else el
    return squash(node.text) if node is not None and node.text else ""


def _all_text(el: Any, path: str) -> list[str]:
    """Texts of every element matching the last name of ``path`` under the first match of the rest."""
    head, _, last = path.rpartition("/")
    parent = _find(el, head) if head else el
    return [squash(c.text) for c in _kids(parent, last) if c.text and c.text.strip()]


def _date(el: Any) -> dt.date | None:
    """A ``Dt`` or ``DtTm`` child as a date (the date as written: the bank's local day)."""
    if el is None:
        return None
    text = _text(el, "Dt") or _text(el, "DtTm")
    if not text:
        return None
    return dt.date.fromisoformat(text[:10])


def _amount(el: Any, where: str, file: str) -> tuple[Decimal, str]:
    try:
        return Decimal(squash(el.text)), el.get("Ccy", "").upper()
    except (InvalidOperation, TypeError, AttributeError):
        raise StatementParseError(BAD_FILE.format(file=file, where=where, reason="an amount is not a number"))


def _party(el: Any, role: str) -> tuple[str, str, str, str]:
    """(name, iban, other account id, bic) of the debtor (``Dbtr``) or creditor (``Cdtr``) of a transaction."""
    parties = _find(el, "RltdPties")
    party = _find(parties, role)
    name = _text(party, "Nm") or _text(party, "Pty/Nm")
    ultimate = _find(parties, f"Ultmt{role}")
    if not name and ultimate is not None:
        name = _text(ultimate, "Nm") or _text(ultimate, "Pty/Nm")
    account = _find(parties, f"{role}Acct")
    iban = _text(account, "Id/IBAN")
    other = _text(account, "Id/Othr/Id")
    agent = _find(_find(el, "RltdAgts"), f"{role}Agt")
    bic = _text(agent, "FinInstnId/BIC") or _text(agent, "FinInstnId/BICFI")
    return name, iban, other, bic


def _bank_code(el: Any) -> str:
    code = _find(el, "BkTxCd")
    if code is None:
        return ""
    domain = _text(code, "Domn/Cd")
    if domain:
        parts = [domain, _text(code, "Domn/Fmly/Cd"), _text(code, "Domn/Fmly/SubFmlyCd")]
        return "-".join(p for p in parts if p)
    return _text(code, "Prtry/Cd")


def _creditor_refs(tx: Any) -> list[str]:
    out = []
    for rmt in _kids(tx, "RmtInf"):
        for strd in _kids(rmt, "Strd"):
            ref = _text(strd, "CdtrRefInf/Ref")
            if ref:
                out.append(ref)
    return out


def _remittance(tx: Any) -> tuple[list[str], list[str]]:
    """(unstructured texts, additional remittance texts of structured blocks)."""
    ustrd, addtl = [], []
    for rmt in _kids(tx, "RmtInf"):
        ustrd.extend(_all_text(rmt, "Ustrd"))
        for strd in _kids(rmt, "Strd"):
            addtl.extend(_all_text(strd, "AddtlRmtInf"))
    return ustrd, addtl


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _raw(el: Any) -> Any:
    """An element as JSON-ready data: {name: text | {...} | [...]}, attributes as @name."""
    children = [c for c in el if isinstance(c.tag, str)]
    if not children:
        value = squash(el.text)
        return {**{f"@{k}": v for k, v in el.attrib.items()}, "#text": value} if el.attrib else value
    out: dict[str, Any] = {f"@{k}": v for k, v in el.attrib.items()}
    for c in children:
        name, value = _local(c), _raw(c)
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


def _line_from(
    entry: Any,
    txs: list[Any],
    amount: Decimal,
    currency: str,
    credit: bool,
    booking: dt.date,
    value: dt.date | None,
    file: str,
) -> ParsedLine:
    tx = txs[0] if txs else None
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    line = ParsedLine(
        amount=amount if credit else -amount,
        currency=currency,
        booking_date=booking,
        value_date=value,
        bank_reference=_text(tx, "Refs/AcctSvcrRef") or _text(entry, "AcctSvcrRef"),
        entry_reference=_text(entry, "NtryRef"),
        end_to_end_id=_text(tx, "Refs/EndToEndId") if tx is not None else "",
        instruction_id=_text(tx, "Refs/InstrId") if tx is not None else "",
        mandate_id=_text(tx, "Refs/MndtId") if tx is not None else "",
        transaction_code=(_bank_code(tx) if tx is not None else "") or _bank_code(entry),
        is_reversal=reversal,
    )
    if line.end_to_end_id.upper() == "NOTPROVIDED":
        line.end_to_end_id = ""
    ustrd: list[str] = []
    addtl: list[str] = []
    refs: list[str] = []
    for t in txs:
        u, a = _remittance(t)
        ustrd += u
        addtl += a + _all_text(t, "AddtlTxInf")
        refs += _creditor_refs(t)
    addtl += _all_text(entry, "AddtlNtryInf")
    line.remittance = " ".join(_unique(ustrd))
    line.additional_info = " ".join(_unique(addtl))
    line.creditor_reference = " ".join(_unique(refs))
    if tx is not None:
        # money in: the payer is the debtor; money out: the payee is the creditor (as the bank reports them)
        first, second = ("Dbtr", "Cdtr") if credit else ("Cdtr", "Dbtr")
        name, iban, other, bic = _party(tx, first)
        if not (name or iban or other):
            name, iban, other, bic = _party(tx, second)
        line.counterparty_name = name
        set_counterparty(line, iban=iban, bic=bic, account=other)
        reason = _text(tx, "RtrInf/Rsn/Cd") or _text(tx, "RtrInf/Rsn/Prtry")
        if reason or _find(tx, "RtrInf") is not None:
            line.is_reversal, line.return_reason = True, reason
    subfamily = line.transaction_code.split("-")[-1] if line.transaction_code.count("-") == 2 else ""
    if subfamily in RETURN_SUBFAMILIES:
        line.is_reversal = True
    line.raw = {"entry": _raw(entry)} if len(txs) <= 1 else {"entry": _raw(entry), "transactions": len(txs)}
    if tx is not None and len(txs) > 1:
        line.raw["transaction"] = _raw(tx)
    return line


def _entry_lines(entry: Any, file: str, where: str) -> list[ParsedLine]:
    amount_el = _find(entry, "Amt")
    if amount_el is None:
        raise StatementParseError(BAD_FILE.format(file=file, where=where, reason="an entry has no amount (Amt)"))
    amount, currency = _amount(amount_el, where, file)
    credit = _text(entry, "CdtDbtInd") == "CRDT"
    booking = _date(_find(entry, "BookgDt")) or _date(_find(entry, "ValDt"))
    if booking is None:
        raise StatementParseError(BAD_FILE.format(file=file, where=where, reason="an entry has no booking date"))
    value = _date(_find(entry, "ValDt"))
    txs = [tx for details in _kids(entry, "NtryDtls") for tx in _kids(details, "TxDtls")]
    if len(txs) > 1:
        parts: list[tuple[Decimal, bool]] = []
        for tx in txs:
            tx_amount = _find(tx, "Amt")
            if tx_amount is None:  # lxml elements without children are falsy: compare with None
                tx_amount = _find(tx, "AmtDtls/TxAmt/Amt")
            if tx_amount is None:
                break
            a, ccy = _amount(tx_amount, where, file)
            if ccy != currency:
                break
            tx_credit = (_text(tx, "CdtDbtInd") or _text(entry, "CdtDbtInd")) == "CRDT"
            parts.append((a, tx_credit))
        if len(parts) == len(txs) and sum(a if c == credit else -a for a, c in parts) == amount:
            return [
                _line_from(entry, [tx], a, currency, c, booking, value, file)
                for tx, (a, c) in zip(txs, parts, strict=True)
            ]
    return [_line_from(entry, txs, amount, currency, credit, booking, value, file)]


def _balance(stmt: Any, codes: tuple[str, ...], file: str) -> Balance | None:
    for bal in _kids(stmt, "Bal"):
        code = _text(bal, "Tp/CdOrPrtry/Cd")
        if code in codes:
            amount, ccy = _amount(_find(bal, "Amt"), f"balance {code}", file)
            sign = -1 if _text(bal, "CdtDbtInd") == "DBIT" else 1
            return Balance(sign * amount, ccy, _date(_find(bal, "Dt")))
    return None


def parse(data: bytes, *, file: str = "<input>") -> list[ParsedStatement]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise StatementParseError(BAD_FILE.format(file=file, where=f"line {exc.lineno}", reason=f"not XML ({exc})"))
    namespace = etree.QName(root).namespace or ""
    version = namespace.rsplit(":", 1)[-1] if namespace else ""
    message = next((c for c in root if isinstance(c.tag, str) and _local(c) in _KINDS), None)
    if message is None:
        raise StatementParseError(
            BAD_FILE.format(
                file=file, where="root", reason="no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn"
            )
        )
    child, kind = _KINDS[_local(message)]
    out = []
    for index, stmt in enumerate(_kids(message, child), start=1):
        where = f"{child} {index}"
        account_id = _text(stmt, "Acct/Id/IBAN") or _text(stmt, "Acct/Id/Othr/Id")
        iban, ok = clean_iban(account_id) if account_id else ("", False)
        bic_text = _text(stmt, "Acct/Svcr/FinInstnId/BIC") or _text(stmt, "Acct/Svcr/FinInstnId/BICFI")
        bic, bic_ok = clean_bic(bic_text)
        opening = _balance(stmt, OPENING_CODES, file)
        closing = _balance(stmt, CLOSING_CODES, file)
        lines: list[ParsedLine] = []
        for n, entry in enumerate(_kids(stmt, "Ntry"), start=1):
            status = _text(entry, "Sts") or _text(entry, "Sts/Cd")
            if status in NOT_BOOKED:
                continue
            lines.extend(_entry_lines(entry, file, f"{where}, entry {n}"))
        currency = (
            _text(stmt, "Acct/Ccy") or (opening.currency if opening else "") or (lines[0].currency if lines else "")
        )
        out.append(
            ParsedStatement(
                format=kind,
                version=version,
                statement_id=_text(stmt, "Id"),
                account_id=account_id,
                account_iban=iban if ok else "",
                account_bic=bic if bic_ok else "",
                currency=currency,
                opening=opening,
                closing=closing,
                lines=lines,
                raw={
                    "message_id": _text(message, "GrpHdr/MsgId"),
                    "created": _text(stmt, "CreDtTm"),
                    "sequence": _text(stmt, "ElctrncSeqNb") or _text(stmt, "LglSeqNb"),
                    "owner": _text(stmt, "Acct/Nm") or _text(stmt, "Acct/Ownr/Nm"),
                },
            )
        )
    return out
