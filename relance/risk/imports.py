"""Importing risk inputs: financial statements, legal events (BODACC-like feeds), external scores.

Each import reads the whole file first; a row with an error (file, row, column, value, reason) refuses the
file and nothing is written. Re-importing a file changes nothing (upserts on natural keys: legal entity and
fiscal year end; announcement reference; legal entity, provider and date). Formats: docs/risk.md.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from relance.core import audit, clock, errors
from relance.ingest.rows import CANONICAL, BadValue, RowError, parse_date, parse_decimal
from relance.ledger.models import Customer, LegalEntity

from .models import ExternalScore, FinancialStatement, LegalEvent, LegalEventKind
from .providers import Identifier
from .providers.files import FileProvider, identifier, read_records, text

FIN_FIELDS = ("total_assets", "total_liabilities", "equity", "working_capital", "retained_earnings", "ebit", "sales")
UNKNOWN_ENTITY = "no customer with this {what} in any company"


@dataclass
class ImportResult:
    file: str
    kind: str
    status: str = "done"
    counts: dict[str, int] = field(
        default_factory=lambda: {"read": 0, "created": 0, "updated": 0, "unchanged": 0, "ignored": 0}
    )
    errors: list[RowError] = field(default_factory=list)
    applied: dict[str, Any] = field(default_factory=dict)  # legal events: the rescoring and monitoring done

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "status": self.status,
            "counts": self.counts,
            "errors": [e.as_dict() for e in self.errors],
            **({"applied": self.applied} if self.applied else {}),
        }


class EntityResolver:
    """Legal entities by SIREN, VAT number, or company + customer reference (read once, cached)."""

    def __init__(self) -> None:
        self.by_siren: dict[str, int] = {}
        self.by_vat: dict[str, int] = {}
        for pk, siren, vat in LegalEntity.objects.values_list("pk", "siren", "vat_number"):
            if siren:
                self.by_siren[siren] = pk
            if vat:
                self.by_vat[vat] = pk
        for siren, eid in (
            Customer.objects.exclude(siren="").exclude(legal_entity=None).values_list("siren", "legal_entity_id")
        ):
            self.by_siren.setdefault(siren, eid)
        self._refs: dict[tuple[str, str], int | None] = {}

    def resolve(self, ident: Identifier) -> tuple[int | None, str]:
        """(legal entity id or None, what was looked for)."""
        if ident.siren:
            return self.by_siren.get(ident.siren), "SIREN"
        if ident.vat_number:
            return self.by_vat.get(ident.vat_number), "VAT number"
        key = (ident.company, ident.customer_ref)
        if key not in self._refs:
            self._refs[key] = (
                Customer.objects.filter(company__code=ident.company, reference=ident.customer_ref)
                .values_list("legal_entity_id", flat=True)
                .first()
            )
        return self._refs[key], "company and customer reference"


def _finish(result: ImportResult, *, actor: Any, write: Any) -> ImportResult:
    if result.errors:
        result.status = "refused"
        return result
    with transaction.atomic():
        for obj, how in write():
            audit.record(
                actor=actor,
                action=f"risk.import_{result.kind}",
                obj=obj,
                changes={"result": how, **audit.snapshot(obj, ["legal_entity", "kind", "fiscal_year_end", "as_of"])},
                message=result.file[:300],
            )
    return result


# --- financial statements -------------------------------------------------------------------------------


def import_financials(*, actor: Any, path: Path) -> ImportResult:
    """Financial statements per legal entity and fiscal year (CSV/XLSX/JSON)."""
    result = ImportResult(str(path), "financials")
    resolver = EntityResolver()
    rows: list[tuple[int, dict[str, Any]]] = []
    for rowno, raw in read_records(path):
        result.counts["read"] += 1
        bad = len(result.errors)

        def fail(column: str, value: str, reason: str, rowno: int = rowno) -> None:
            result.errors.append(RowError(result.file, rowno, column, value, reason))

        ident = identifier(raw)
        entity, what = resolver.resolve(ident)
        if not (ident.siren or ident.vat_number or (ident.company and ident.customer_ref)):
            fail("siren", "", "give siren, vat_number, or company and customer_ref")
        elif entity is None:
            fail("siren" if ident.siren else "vat_number" if ident.vat_number else "customer_ref",
                 ident.siren or ident.vat_number or ident.customer_ref, UNKNOWN_ENTITY.format(what=what))  # fmt: skip
        values: dict[str, Any] = {}
        try:
            values["fiscal_year_end"] = parse_date(text(raw, "fiscal_year_end"), CANONICAL)
        except BadValue as exc:
            fail(
                "fiscal_year_end",
                text(raw, "fiscal_year_end"),
                str(exc) if text(raw, "fiscal_year_end") else "is required",
            )
        currency = text(raw, "currency").upper()
        from relance.core.money import is_currency

        if not is_currency(currency):
            fail("currency", currency, "not an ISO 4217 currency code" if currency else "is required")
        values["currency"] = currency
        for name in (*FIN_FIELDS, "cash"):
            value = text(raw, name)
            if not value:
                if name == "cash":
                    values[name] = Decimal(0)
                    continue
                fail(name, "", "is required")
                continue
            try:
                values[name] = parse_decimal(value, CANONICAL)
            except BadValue as exc:
                fail(name, value, f"not a number ({exc})")
        if values.get("total_assets") is not None and "total_assets" in values and values["total_assets"] <= 0:
            fail("total_assets", text(raw, "total_assets"), "must be greater than zero")
        for name in ("total_liabilities", "sales"):
            if name in values and values[name] < 0:
                fail(name, text(raw, name), "cannot be negative")
        if len(result.errors) == bad:
            values["source"] = text(raw, "source") or "import"
            rows.append((entity, values))

    def write() -> Iterator[tuple[Any, str]]:
        for entity, values in rows:
            current = FinancialStatement.objects.filter(
                legal_entity_id=entity, fiscal_year_end=values["fiscal_year_end"]
            ).first()
            if current is None:
                yield FinancialStatement.objects.create(legal_entity_id=entity, **values), "created"
                result.counts["created"] += 1
                continue
            changed = [k for k, v in values.items() if getattr(current, k) != v and k != "source"]
            if not changed:
                result.counts["unchanged"] += 1
                continue
            for k, v in values.items():
                setattr(current, k, v)
            current.save()
            result.counts["updated"] += 1
            yield current, "updated"

    return _finish(result, actor=actor, write=write)


# --- legal events ---------------------------------------------------------------------------------------

FRENCH_KINDS = {
    "sauvegarde": LegalEventKind.SAFEGUARD,
    "redressement judiciaire": LegalEventKind.RECEIVERSHIP,
    "liquidation judiciaire": LegalEventKind.LIQUIDATION,
    "plan": LegalEventKind.PLAN,
    "clôture": LegalEventKind.CLOSURE,
    "cloture": LegalEventKind.CLOSURE,
    "incident de paiement": LegalEventKind.PAYMENT_INCIDENT,
}
_REPRESENTATIVE = re.compile(r"(?:mandataire judiciaire|liquidateur|administrateur judiciaire)\s*:?\s*([^.;]+)", re.I)


def classify(nature: str, family: str = "") -> str | None:
    """A legal-event kind from a BODACC judgment's nature and family (None: not an event we track)."""
    n = f"{family} {nature}".lower()
    if "clôture" in n or "cloture" in n:
        return LegalEventKind.CLOSURE
    if "plan" in n and ("arrêtant" in n or "arretant" in n or "adoptant" in n or "homologu" in n):
        return LegalEventKind.PLAN
    if "liquidation judiciaire" in n:
        return LegalEventKind.LIQUIDATION
    if "redressement judiciaire" in n:
        return LegalEventKind.RECEIVERSHIP
    if "sauvegarde" in n:
        return LegalEventKind.SAFEGUARD
    return None


def _sirens(raw: dict[str, Any]) -> list[str]:
    value = raw.get("registre") or raw.get("siren") or ""
    parts = value if isinstance(value, list) else str(value).split(",")
    out = []
    for part in parts:
        digits = "".join(ch for ch in str(part) if ch.isdigit())
        if len(digits) == 9 and digits not in out:
            out.append(digits)
    return out


def _judgment(raw: dict[str, Any]) -> dict[str, Any]:
    value = raw.get("jugement")
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError:
            return {"nature": value}
    return value if isinstance(value, dict) else {}


def import_legal_events(*, actor: Any, path: Path, as_of: dt.date | None = None) -> ImportResult:
    """Legal events from a BODACC-like feed (JSON records or CSV); announcements of companies we do not know,
    and judgments we do not track, are ignored (counted).

    Once the import has committed, every account of the legal entities whose events were created or updated is
    rescored and monitored at once (``monitor.legal_events_apply``, as of ``as_of``, default today): opening
    proceedings stop dunning in every company without waiting for the daily job."""
    result = ImportResult(str(path), "legal_events")
    resolver = EntityResolver()
    rows: list[dict[str, Any]] = []
    for rowno, raw in read_records(path):
        result.counts["read"] += 1
        bad = len(result.errors)

        def fail(column: str, value: str, reason: str, rowno: int = rowno) -> None:
            result.errors.append(RowError(result.file, rowno, column, value, reason))

        family = text(raw, "familleavis")
        if family and family.lower() not in ("collective", "procédures collectives"):
            result.counts["ignored"] += 1
            continue
        reference = text(raw, "reference") or text(raw, "id") or text(raw, "numeroannonce")
        if not reference:
            fail("reference", "", "is required (id or numeroannonce in BODACC records)")
        published_text = text(raw, "published_on") or text(raw, "dateparution")
        published = None
        try:
            published = parse_date(published_text, CANONICAL)
        except BadValue as exc:
            fail("dateparution", published_text, str(exc) if published_text else "is required")
        judgment = _judgment(raw)
        explicit = text(raw, "kind").lower()
        if explicit:
            kind = explicit if explicit in LegalEventKind.values else FRENCH_KINDS.get(explicit)
            if kind is None:
                fail("kind", explicit, f"unknown kind; kinds are: {', '.join(LegalEventKind.values)}")
        else:
            kind = classify(str(judgment.get("nature", "")), str(judgment.get("famille", "")))
        judgment_date = None
        judgment_text = text(raw, "judgment_date") or str(judgment.get("date", "") or "")
        if judgment_text:
            try:
                judgment_date = parse_date(judgment_text, CANONICAL)
            except BadValue as exc:
                fail("judgment_date", judgment_text, str(exc))
        sirens = _sirens(raw)
        if not sirens and not (text(raw, "company") and text(raw, "customer_ref")):
            fail("registre", text(raw, "registre"), "no SIREN (9 digits) in the record")
        if len(result.errors) > bad:
            continue
        if kind is None:
            result.counts["ignored"] += 1
            continue
        entity = None
        for siren in sirens:
            entity = resolver.resolve(Identifier(siren=siren))[0]
            if entity:
                break
        if entity is None and not sirens:
            entity = resolver.resolve(identifier(raw))[0]
        if entity is None:
            result.counts["ignored"] += 1  # a company we do not deal with
            continue
        complement = str(judgment.get("complementJugement", "") or "")
        match = _REPRESENTATIVE.search(complement)
        rows.append(
            {
                "legal_entity_id": entity,
                "kind": kind,
                "reference": reference,
                "published_on": published,
                "judgment_date": judgment_date,
                "court": (text(raw, "court") or text(raw, "tribunal"))[:200],
                "representative": (text(raw, "representative") or (match.group(1).strip() if match else ""))[:300],
                "description": text(raw, "description") or str(judgment.get("nature", "")),
                "source": "bodacc" if judgment or family else "import",
                "raw": {k: v for k, v in raw.items() if isinstance(v, str | int | float | list | dict | None)},
            }
        )

    touched: set[int] = set()

    def write() -> Iterator[tuple[Any, str]]:
        for values in rows:
            current = LegalEvent.objects.filter(reference=values["reference"]).first()
            if current is None:
                yield LegalEvent.objects.create(**values), "created"
                result.counts["created"] += 1
                touched.add(values["legal_entity_id"])
                continue
            keys = ("legal_entity_id", "kind", "published_on", "judgment_date", "court", "representative")
            if all(getattr(current, k) == values[k] for k in keys):
                result.counts["unchanged"] += 1
                continue
            touched.add(current.legal_entity_id)  # an event moved to another entity changes both
            for k, v in values.items():
                setattr(current, k, v)
            current.save()
            touched.add(current.legal_entity_id)
            result.counts["updated"] += 1
            yield current, "updated"

    _finish(result, actor=actor, write=write)
    if result.status == "done" and touched:
        from .monitor import legal_events_apply

        result.applied = legal_events_apply(touched, as_of=as_of or clock.today(), actor=actor)
    return result


# --- external scores ------------------------------------------------------------------------------------


def import_scores(
    *, actor: Any, path: Path, provider: str, low: Decimal = Decimal(0), high: Decimal = Decimal(100),
    lower_is_safer: bool = False,
) -> ImportResult:  # fmt: skip
    """External scores of one provider from a file (normalised to 0-100)."""
    if not provider.strip():
        raise errors.ValidationError("Name the provider (--provider NAME).", field="provider")
    result = ImportResult(str(path), "scores")
    records, errs = FileProvider(provider, path, low=low, high=high, lower_is_safer=lower_is_safer).parse()
    result.errors.extend(errs)
    result.counts["read"] = len(records) + len({e.row for e in errs})
    resolver = EntityResolver()
    rows = []
    for rec in records:
        entity, what = resolver.resolve(rec.identifier)
        if entity is None:
            ident = rec.identifier
            column = "siren" if ident.siren else "vat_number" if ident.vat_number else "customer_ref"
            value = ident.siren or ident.vat_number or ident.customer_ref
            result.errors.append(RowError(result.file, rec.row, column, value, UNKNOWN_ENTITY.format(what=what)))
            continue
        rows.append((entity, rec))

    def write() -> Iterator[tuple[Any, str]]:
        for entity, rec in rows:
            values = {
                "score": rec.score,
                "raw_value": rec.raw_value[:40],
                "recommended_limit": rec.recommended_limit,
                "currency": rec.currency,
            }
            current = ExternalScore.objects.filter(legal_entity_id=entity, provider=provider, as_of=rec.as_of).first()
            if current is None:
                created = ExternalScore.objects.create(
                    legal_entity_id=entity, provider=provider, as_of=rec.as_of, **values
                )
                result.counts["created"] += 1
                yield created, "created"
            elif all(getattr(current, k) == v for k, v in values.items()):
                result.counts["unchanged"] += 1
            else:
                for k, v in values.items():
                    setattr(current, k, v)
                current.save()
                result.counts["updated"] += 1
                yield current, "updated"

    return _finish(result, actor=actor, write=write)


def parse_scale(text_value: str) -> tuple[Decimal, Decimal]:
    """'0-20' -> (0, 20)."""
    try:
        low, high = (Decimal(p.strip()) for p in text_value.split("-", 1))
    except (ValueError, ArithmeticError):
        raise errors.ValidationError(f"{text_value!r} is not a scale LOW-HIGH such as 0-20.", field="scale")
    if low == high:
        raise errors.ValidationError(f"{text_value!r}: the scale's bounds are equal.", field="scale")
    return low, high
