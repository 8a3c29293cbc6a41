"""``--snapshot``: a documents file declared complete for its company.

Open documents of the company that the file does not list are reported (``FILE.missing.csv``) and,
once confirmed (``--confirm``), closed by a ``source_closure`` settlement: an allocation without
cash, audited and reversible. A document closed that way which comes back in a later snapshot is
reopened (its closure reversed). Memory holds the numbers of the company's open (and source-closed)
documents only, not of every row read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relance.core import clock
from relance.ledger import services as ledger
from relance.ledger.models import SOURCE_CLOSURE, Allocation, Document
from relance.orgs.models import Company


@dataclass
class Snapshot:
    company: Company
    open_numbers: set[str]
    closed: dict[str, int]  # number -> its live source-closure allocation
    reopen: list[int] = field(default_factory=list)

    @classmethod
    def start(cls, company: Company) -> Snapshot:
        open_numbers = set(Document.objects.filter(company=company, open_amount__gt=0).values_list("number", flat=True))
        closed = dict(
            Allocation.objects.filter(
                company=company, source=SOURCE_CLOSURE, reverses__isnull=True, reversed_by__isnull=True
            ).values_list("target__number", "pk")
        )
        return cls(company, open_numbers, closed)

    def see(self, number: str) -> None:
        self.open_numbers.discard(number)
        allocation = self.closed.pop(number, None)
        if allocation is not None:
            self.reopen.append(allocation)

    def finish(self, *, actor: Any, confirm: bool, path: Path, name: str) -> dict[str, Any]:
        missing = (
            list(
                Document.objects.filter(company=self.company, number__in=sorted(self.open_numbers))
                .select_related("customer")
                .order_by("due_date", "number")
            )
            if self.open_numbers
            else []
        )
        report = path.with_name(path.name + ".missing.csv")
        report.unlink(missing_ok=True)
        if missing:
            with report.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["number", "customer_ref", "type", "due_date", "currency", "open_amount"])
                for d in missing:
                    writer.writerow(
                        [d.number, d.customer.reference, d.type, d.due_date.isoformat(), d.currency, d.open_amount]
                    )
        closed = reopened = 0
        if confirm:
            today = clock.today()
            for d in missing:
                ledger.document_close(
                    actor=actor, document=d, date=today, reason=f"not in the complete snapshot {name}"
                )
                closed += 1
            for allocation_id in self.reopen:
                ledger.allocation_reverse(
                    actor=actor,
                    allocation=Allocation(pk=allocation_id),
                    date=today,
                    reason=f"listed again in the snapshot {name}",
                )
                reopened += 1
        return {
            "company": self.company.code,
            "missing": len(missing),
            "to_reopen": len(self.reopen),
            "closed": closed,
            "reopened": reopened,
            "confirmed": confirm,
            "missing_file": str(report) if missing else None,
            "missing_numbers": [d.number for d in missing[:20]],
        }
