"""Small camt.053 files for tests: each entry a dict (amount signed, texts, references)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

ACCOUNT = "FR7630003012340123456789057"


def entry_xml(e: dict) -> str:
    amount = Decimal(str(e["amount"]))
    credit = amount > 0
    role, agent = ("Dbtr", "DbtrAgt") if credit else ("Cdtr", "CdtrAgt")
    day = e.get("date", dt.date(2026, 6, 29)).isoformat()
    rvsl = "<RvslInd>true</RvslInd>" if e.get("reversal") else ""
    ustrd = f"<Ustrd>{escape(e['text'])}</Ustrd>" if e.get("text") else ""
    strd = (
        f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{e['rf']}</Ref></CdtrRefInf></Strd>"
        if e.get("rf")
        else ""
    )
    rtr = f"<RtrInf><Rsn><Cd>{e['return_reason']}</Cd></Rsn></RtrInf>" if e.get("return_reason") else ""
    iban = f"<{role}Acct><Id><IBAN>{e['iban']}</IBAN></Id></{role}Acct>" if e.get("iban") else ""
    return f"""
    <Ntry>
      <Amt Ccy="{e.get("currency", "EUR")}">{abs(amount)}</Amt>
      <CdtDbtInd>{"CRDT" if credit else "DBIT"}</CdtDbtInd>{rvsl}
      <Sts>BOOK</Sts>
      <BookgDt><Dt>{day}</Dt></BookgDt>
      <ValDt><Dt>{day}</Dt></ValDt>
      <AcctSvcrRef>{e.get("ref", "")}</AcctSvcrRef>
      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{e.get("family", "RCDT")}</Cd>
        <SubFmlyCd>{e.get("sub", "ESCT")}</SubFmlyCd></Fmly></Domn></BkTxCd>
      <NtryDtls><TxDtls>
        <Refs><EndToEndId>{e.get("e2e", "NOTPROVIDED")}</EndToEndId></Refs>
        <RltdPties><{role}><Nm>{escape(e.get("name", ""))}</Nm></{role}>{iban}</RltdPties>
        <RltdAgts><{agent}><FinInstnId><BIC>{e.get("bic", "BNPAFRPP")}</BIC></FinInstnId></{agent}></RltdAgts>
        <RmtInf>{ustrd}{strd}</RmtInf>{rtr}
      </TxDtls></NtryDtls>
    </Ntry>"""


def camt053(entries: list[dict], *, account: str = ACCOUNT, statement_id: str = "STMT-1", opening: str = "0.00") -> str:
    total = sum((Decimal(str(e["amount"])) for e in entries), Decimal(0))
    closing = Decimal(opening) + total
    body = "".join(entry_xml(e) for e in entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>{statement_id}</MsgId><CreDtTm>2026-06-29T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>{statement_id}</Id>
      <Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(Decimal(opening))}</Amt>
        <CdtDbtInd>{"CRDT" if Decimal(opening) >= 0 else "DBIT"}</CdtDbtInd><Dt><Dt>2026-06-28</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{abs(closing)}</Amt>
        <CdtDbtInd>{"CRDT" if closing >= 0 else "DBIT"}</CdtDbtInd><Dt><Dt>2026-06-29</Dt></Dt></Bal>{body}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def write(tmp_path: Path, name: str, entries: list[dict], **kw: object) -> Path:
    path = tmp_path / name
    path.write_text(camt053(entries, **kw), encoding="utf-8")
    return path
