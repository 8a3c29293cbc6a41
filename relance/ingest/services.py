"""Importing a file: read (streaming), validate every row, load in batches, all or nothing by default.

* default: the whole file loads in one transaction, or nothing does (every error is reported);
* ``partial``: valid rows load, rejected rows are written to ``<file>.rejects.csv`` with the reason;
* ``preview``: everything is checked and rolled back (what the web upload shows before committing).
Each run is recorded as an ImportRun, whatever its outcome.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from relance.core import audit, clock, errors
from relance.orgs.models import User

from . import loaders
from .models import ImportRun, MappingProfile
from .readers import Table, open_table
from .rows import KINDS, LAYOUTS, PARSERS, Profile, Row, RowError, fast_parser, missing_columns
from .snapshot import Snapshot

BATCH = 2000  # rows per loader call
MAX_BATCH = 50 * BATCH  # a payment of more rows than this is cut all the same (memory stays bounded)
MAX_REPORTED_ERRORS = 1000
KIND_ALIASES = {"invoices": "documents"}


class _Rollback(Exception):
    pass


@dataclass
class ImportResult:
    file: str
    kind: str
    status: str  # loaded | partial | refused | preview
    counts: dict[str, int]
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    rejects_file: str = ""
    run_id: int | None = None
    preview: list[dict[str, str]] = field(default_factory=list)
    snapshot: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "status": self.status,
            "counts": self.counts,
            "error_count": self.error_count,
            "errors": [e.as_dict() for e in self.errors],
            "rejects_file": self.rejects_file or None,
            "import_id": self.run_id,
            "snapshot": self.snapshot,
        }


def get_profile(name: str | None, kind: str) -> Profile:
    if not name:
        return Profile(kind=kind)
    saved = MappingProfile.objects.filter(name=name).first()
    if saved is None:
        names = ", ".join(MappingProfile.objects.values_list("name", flat=True)) or "none saved yet"
        raise errors.ValidationError(f"Unknown mapping profile {name!r} (profiles: {names}).", field="profile")
    profile = Profile.from_dict({"name": saved.name, **saved.definition})
    if profile.kind and profile.kind != kind:
        raise errors.ValidationError(f"Profile {name!r} is for {profile.kind}, not {kind}.", field="profile")
    return profile


@transaction.atomic
def profile_save(*, actor: Any, name: str, definition: dict[str, Any]) -> MappingProfile:
    """Save (or replace) a mapping profile after checking it."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise errors.ValidationError(f"{name!r}: a profile name is letters, digits, - and _.", field="name")
    definition = {k: v for k, v in definition.items() if k != "name"}
    try:
        Profile.from_dict(definition)
    except (TypeError, ValueError) as exc:
        raise errors.ValidationError(f"Profile {name!r}: {exc}", field="profile")
    profile, created = MappingProfile.objects.update_or_create(
        name=name, defaults={"definition": definition, "kind": definition.get("kind", "")}
    )
    audit.record(actor=actor, action="profile.create" if created else "profile.update", obj=profile, changes=definition)
    return profile


def normalise_kind(kind: str) -> str:
    kind = KIND_ALIASES.get(kind, kind)
    if kind not in KINDS:
        raise errors.ValidationError(f"Unknown import kind {kind!r}: {', '.join(KINDS)}.", field="kind")
    return kind


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _batches(
    table: Table,
    kind: str,
    profile: Profile,
    default_company: str,
    keep_raw: bool,
    snapshot: Snapshot | None = None,
) -> Iterator[tuple[list[Any], list[RowError], int, dict[int, dict[str, str]] | None]]:
    """The file's records in batches of about BATCH rows, with the errors of the rows that did not parse, the
    number of rows read and (``keep_raw``) the rows as read, by row number.

    A batch of payments never ends between two rows of one payment (rows with one reference are contiguous):
    the loader must see a payment whole. Memory holds a batch.
    """
    parse = PARSERS[kind]
    fast = fast_parser(kind, profile, default_company)
    grouped = kind == "payments"
    records: list[Any] = []
    bad: list[RowError] = []
    read = 0
    full = False
    path = table.path
    raw_rows: dict[int, dict[str, str]] | None = {} if keep_raw else None
    for number, raw in table.rows:
        record = fast(number, raw) if fast is not None else None
        row = None
        if record is None:
            row = Row(path, number, raw, profile)
            record = parse(row, default_company)
        if full and not (
            grouped
            and record is not None
            and records
            and record.reference == records[-1].reference
            and record.company == records[-1].company
            and len(records) < MAX_BATCH
        ):
            yield records, bad, read, raw_rows
            records, bad, read, raw_rows = [], [], 0, {} if keep_raw else None
        read += 1
        if record is not None:
            records.append(record)
        else:
            assert row is not None
            bad.extend(row.errors)
        if snapshot is not None:
            snapshot.see(record.number if record is not None else row.text("number"))  # type: ignore[union-attr]
        if raw_rows is not None:
            raw_rows[number] = raw
        full = len(records) + len(bad) >= BATCH
    if records or bad or read:
        yield records, bad, read, raw_rows


def import_file(
    *,
    actor: Any,
    kind: str,
    path: Path,
    company: str = "",
    profile: str | None = None,
    partial: bool = False,
    preview: bool = False,
    progress: Callable[[int], None] | None = None,
    source: str = "import",
    display_name: str | None = None,
    snapshot: bool = False,
    confirm: bool = False,
) -> ImportResult:
    """Import ``path`` as ``kind`` (customers, documents or payments). See the module docstring."""
    kind = normalise_kind(kind)
    path = Path(path)
    prof = get_profile(profile, kind)
    company = company.strip().upper()
    if company:
        from relance.orgs.services import company_by_code

        company_by_code(company)
    if snapshot and (kind != "documents" or not company):
        raise errors.ValidationError(
            "--snapshot applies to documents and needs --company CODE (the company the file is complete for).",
            field="snapshot",
        )
    if confirm and not snapshot:
        raise errors.ValidationError("--confirm goes with --snapshot.", field="confirm")
    table = open_table(path, encoding=prof.encoding or None, delimiter=prof.delimiter or None)
    name = display_name or str(path)
    table = Table(name, table.headers, table.rows, table.encoding, table.delimiter)
    missing = [c for c in missing_columns(kind, table.headers, prof) if not (c == prof.source("company") and company)]
    if missing:
        raise errors.ValidationError(
            f"{name}: row 1: missing column(s) {', '.join(missing)}; the {kind} layout is "
            f"{', '.join(LAYOUTS[kind])} (or use a mapping profile).",
            field="file",
        )
    run = ImportRun.objects.create(
        kind=kind,
        file_name=name[:300],
        sha256=sha256_of(path),
        company=None,
        profile=prof.name if profile else "",
        mode="preview" if preview else "partial" if partial else "atomic",
        started_at=clock.now(),
        actor=actor if isinstance(actor, User) else None,
        actor_label=audit.actor_label(actor),
    )
    reverse_columns = {v: k for k, v in prof.columns.items()}
    ctx = loaders.Context(
        actor=actor,
        file=name,
        source=source,
        started_at=run.started_at,
        column=lambda c: prof.source(reverse_columns.get(c, c)),
        emit_events=not preview,  # webhook events go out with what a file import writes, as the bulk API's do
    )
    all_errors: list[RowError] = []
    error_count = 0
    read = 0
    rejected_rows: set[int] = set()
    if partial:
        _rejects_path(path).unlink(missing_ok=True)  # never append to the rejects of an earlier run
    preview_rows: list[dict[str, str]] = []
    loader = loaders.LOADERS[kind]
    snap: Snapshot | None = None
    snapshot_result: dict[str, Any] | None = None
    try:
        with transaction.atomic():
            if snapshot:
                from relance.orgs.services import company_by_code

                snap = Snapshot.start(company_by_code(company))
            for records, bad, count, raw_rows in _batches(table, kind, prof, company, partial or preview, snap):
                read += count
                problems = bad + loader(ctx, records)
                error_count += len(problems)
                rejected_rows.update(p.row for p in problems)
                all_errors.extend(problems[: max(0, MAX_REPORTED_ERRORS - len(all_errors))])
                if raw_rows is not None:
                    if preview and len(preview_rows) < 20:
                        preview_rows.extend(list(raw_rows.values())[: 20 - len(preview_rows)])
                    if partial and problems:
                        _append_rejects(path, table.headers, raw_rows, problems)
                if progress:
                    progress(count)
            if snap is not None and not (error_count and not partial):
                snapshot_result = snap.finish(actor=actor, confirm=confirm and not preview, path=path, name=name)
            if preview or (error_count and not partial):
                raise _Rollback()
    except _Rollback:
        pass
    all_errors.sort(key=lambda e: e.row)
    counts = {
        "read": read,
        "created": ctx.counts["created"],
        "updated": ctx.counts["updated"],
        "unchanged": ctx.counts["unchanged"],
        **({"recognised": ctx.counts["recognised"]} if ctx.counts.get("recognised") else {}),
        "rejected": len(rejected_rows),
    }
    if preview:
        status = "preview"
    elif error_count and not partial:
        status = "refused"
        counts.update(created=0, updated=0, unchanged=0)
        counts.pop("recognised", None)
    elif error_count:
        status = "partial"
    else:
        status = "loaded"
    rejects = str(_rejects_path(path)) if partial and rejected_rows else ""
    if status in ("loaded", "partial") and (counts["created"] or counts["updated"]):
        # Creations are audited once per import (the ImportRun says which file, by whom, with what counts);
        # each update has its own row with before and after.
        audit.record(
            actor=actor,
            action=f"import.{kind}",
            obj=run,
            changes=counts,
            message=name,
            company_id=ctx.company(company).pk if company and ctx.company(company) else None,
        )
    run.status, run.counts, run.errors = status, counts, [e.as_dict() for e in all_errors[:200]]
    run.error_count, run.rejects_file, run.finished_at = error_count, rejects, clock.now()
    run.save()
    return ImportResult(
        name, kind, status, counts, all_errors, error_count, rejects, run.pk, preview_rows, snapshot_result
    )


def _rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def _append_rejects(
    path: Path,
    headers: list[str],
    raw_rows: dict[int, dict[str, str]],
    problems: list[RowError],
) -> None:
    """Rejected rows of this batch, as they were, with the row number and the reasons (UTF-8 CSV)."""
    reasons: dict[int, list[str]] = {}
    for p in problems:
        reasons.setdefault(p.row, []).append(f"{p.column}: {p.reason}" if p.column else p.reason)
    target = _rejects_path(path)
    mode = "a" if target.exists() else "w"
    with target.open(mode, newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        if mode == "w":
            writer.writerow(["row", *headers, "errors"])
        for number in sorted(reasons):
            raw = raw_rows.get(number, {})
            writer.writerow([number, *(raw.get(h, "") for h in headers), " | ".join(reasons[number])])
