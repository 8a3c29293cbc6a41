"""What the `relance import statement` command does, kept here so the command file only translates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from relance.core import errors

from . import services


def import_statements(
    *,
    actor: Any,
    paths: list[Path],
    company: str = "",
    match: bool = True,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> tuple[dict[str, Any], int]:
    """Import each file (each all or nothing), then match the new incoming lines. Returns (JSON data, refused)."""
    files: list[dict[str, Any]] = []
    refused = 0
    new_ids: list[int] = []
    for path in paths:
        try:
            result = services.statement_import(actor=actor, path=path, company=company)
        except errors.RelanceError as exc:
            refused += 1
            warn(f"refused: {exc.message}")
            files.append({"file": str(path), "status": "refused", "error": exc.message})
            continue
        new_ids.extend(result.new_line_ids)
        c = result.counts
        say(
            f"{result.file}: {result.format}, {len(result.statements)} statement(s), {c['lines']} lines: "
            f"{c['created']} new, {c['duplicates']} already loaded, {c['reversals']} returns/reversals "
            f"({c['reversals_linked']} linked, {c['allocations_reversed']} allocations reversed)."
        )
        for s in result.statements:
            if s.balance_checked is False:
                warn(
                    f"warning: {result.file}: statement {s.statement_id}: opening {s.opening} + movements "
                    f"≠ closing {s.closing} {s.currency}."
                )
        files.append(result.as_dict())
    data: dict[str, Any] = {"kind": "statement", "files": files}
    if match and new_ids:
        outcome = services.lines_match(actor=actor, line_ids=new_ids)
        data["matching"] = outcome
        say(
            f"Matching: {outcome['applied']} applied automatically, {outcome['review']} to review, "
            f"{outcome['unidentified']} unidentified."
        )
    return data, refused
