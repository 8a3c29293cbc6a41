"""Bank statement parsers, one module per format, pure (bytes in, dataclasses out).

:func:`parse` detects the format from the content (never from the file name) and dispatches.
"""

from __future__ import annotations

import re

from . import camt, cfonb120, mt940, ofx
from .base import (
    CAMT052,
    CAMT053,
    CAMT054,
    CFONB120,
    FORMATS,
    MT940,
    OFX,
    UNKNOWN_FORMAT,
    Balance,
    ParsedLine,
    ParsedStatement,
    StatementParseError,
)

__all__ = [
    "CAMT052",
    "CAMT053",
    "CAMT054",
    "CFONB120",
    "FORMATS",
    "MT940",
    "OFX",
    "Balance",
    "ParsedLine",
    "ParsedStatement",
    "StatementParseError",
    "detect",
    "parse",
]


def detect(data: bytes, *, file: str = "<input>") -> str:
    """The format of a statement file from its first bytes: ``camt``, ``mt940``, ``cfonb120`` or ``ofx``."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    text = head.decode("latin-1")
    upper = text.upper()
    if "OFXHEADER" in upper or "<OFX>" in upper:
        return OFX
    if text.startswith("<") and re.search(r"camt\.05[234]|BkToCstmr", text):
        return "camt"
    if re.search(r"(?m)^:20:", text) or text.startswith("{1:") or re.search(r"(?m)^:940:", text):
        return MT940
    first = text.splitlines()[0] if text else ""
    if re.match(r"^01\d{5}", first) and (len(first.rstrip("\r\n")) == 120 or len(first) >= 240):
        return CFONB120
    if text.startswith("<"):
        raise StatementParseError(UNKNOWN_FORMAT.format(file=file, reason="XML, but not an ISO 20022 camt message"))
    raise StatementParseError(UNKNOWN_FORMAT.format(file=file, reason="the content matches none of them"))


_PARSERS = {"camt": camt.parse, MT940: mt940.parse, CFONB120: cfonb120.parse, OFX: ofx.parse}


def parse(data: bytes, *, file: str = "<input>") -> list[ParsedStatement]:
    """Every statement in the file, whatever its format."""
    if not data.strip():
        raise StatementParseError(UNKNOWN_FORMAT.format(file=file, reason="the file is empty"))
    return _PARSERS[detect(data, file=file)](data, file=file)
