"""``cashapp``: how fast and how well the cash matcher works on a realistic labelled set made from the demo data.

The demo generator fills the temporary database; then :func:`labelled_set` draws incoming payments from the open
invoices of one company as payers really write them (numbers spelt many ways, several invoices per transfer,
Relance's RF reference, a known IBAN and no text, sums of invoices, bank fees, partial payments, numbers cut
short, and payments of nobody known), each labelled with the invoices it pays. The matcher runs on them against
the ledger, writing nothing, and is scored like ``relance match-eval``.

Targets (issue "Cash application", part 4): at least 90% of the lines applied automatically with at least 99.5%
precision; 100,000 lines against 1,000,000 open items in under 60 s (smaller runs are extrapolated: the book
scales with the open items, the matching with the lines).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from .registry import Benchmark, Context, Param, register

AS_OF = dt.date(2026, 6, 30)
TARGET_LINES, TARGET_ITEMS, TARGET_SECONDS = 100_000, 1_000_000, 60.0
TARGET_AUTO, TARGET_PRECISION = Decimal("0.90"), Decimal("0.995")

# How payers pay (weights sum to 100).
MIX = (
    ("number", 40),
    ("rf", 12),
    ("iban_exact", 15),
    ("multi", 8),
    ("iban_combination", 5),
    ("fees", 5),
    ("partial", 4),
    ("truncated", 3),
    ("unknown", 8),
)
SPELLINGS = (
    lambda n: n,
    lambda n: n.lower(),
    lambda n: f"Facture {n}",
    lambda n: f"INV {n.replace('-', ' ')}",
    lambda n: f"payment of invoice {n.replace('-', '')}",
    lambda n: f"REGLEMENT FACT. {n}/JUIN",
)


def payer_iban(customer_id: int) -> str:
    from schwifty import IBAN

    return IBAN.generate("FR", bank_code="30004", branch_code="00001", account_code=f"{customer_id:011d}").compact


def labelled_set(
    items: list[Any], names: dict[int, str], lines: int, seed: int, drawn: dict[str, str] | None = None
) -> tuple[list[Any], dict, set[int]]:
    """(parsed lines, labels by bank reference, customers whose IBAN is known) drawn from open invoices;
    ``drawn``, when given, receives how each line was drawn (by bank reference)."""
    from relance.cashapp import domain
    from relance.cashapp.parsers import ParsedLine

    rng = random.Random(seed)
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.due_date, i.id)):
        by_customer[item.customer_id].append(item)
    customers = [c for c, its in by_customer.items() if its]
    kinds = [k for k, w in MIX for _ in range(w)]
    out, labels, known = [], {}, set()
    used: set[int] = set()

    def take(customer: int, count: int = 1) -> list[Any]:
        free = [i for i in by_customer[customer] if i.id not in used]
        chosen = free[:count]
        used.update(i.id for i in chosen)
        return chosen

    for n in range(lines):
        kind = rng.choice(kinds)
        customer = rng.choice(customers)
        name = names.get(customer, "")
        ref = f"BENCH{n:07d}"
        line = ParsedLine(
            amount=Decimal(0), currency="EUR", booking_date=AS_OF, bank_reference=ref, counterparty_name=name
        )
        chosen: list[Any] = []
        if kind == "unknown":
            line.amount = Decimal(rng.randint(1000, 99999)) / 100
            line.counterparty_name = f"Particulier {rng.randint(1, 10**6)}"
            line.remittance = rng.choice(("loyer", "remboursement", "don", ""))
            labels[ref] = frozenset()
            if drawn is not None:
                drawn[ref] = kind
            out.append(line)
            continue
        if kind in ("multi", "iban_combination"):
            chosen = take(customer, 2 + (kind == "multi" and rng.random() < 0.3))
            if len(chosen) < 2:
                kind = "number"
        if kind == "iban_exact":
            free = [i for i in by_customer[customer] if i.id not in used]
            amounts = defaultdict(int)
            for i in free:
                amounts[i.open_amount] += 1
            unique = [i for i in free if amounts[i.open_amount] == 1]
            chosen = unique[:1]
            used.update(i.id for i in chosen)
            if not chosen:
                kind = "number"
        if not chosen:
            chosen = take(customer)
        if not chosen:
            continue
        line.currency = chosen[0].currency
        due = sum((i.open_amount for i in chosen), Decimal(0))
        line.amount = due
        if kind == "number":
            line.remittance = rng.choice(SPELLINGS)(chosen[0].number)
        elif kind == "rf":
            line.creditor_reference = domain.creditor_reference("D", chosen[0].id)
        elif kind in ("iban_exact", "iban_combination"):
            line.counterparty_iban = payer_iban(customer)
            known.add(customer)
            line.remittance = rng.choice(("", "virement", "paiement fournisseur"))
        elif kind == "multi":
            line.remittance = " / ".join(i.number for i in chosen)
        elif kind == "fees":
            line.amount = due - Decimal(rng.randint(100, 999)) / 100
            line.remittance = chosen[0].number
        elif kind == "partial":
            line.amount = (due / 2).quantize(Decimal("0.01"))
            line.remittance = f"acompte {chosen[0].number}"
        elif kind == "truncated":
            line.remittance = f"Paiement {chosen[0].number[:-1]}"
        labels[ref] = frozenset(i.number for i in chosen)
        if drawn is not None:
            drawn[ref] = kind
        out.append(line)
    return out, labels, known


def book_before_payments(company: Any) -> Any:
    """The company's book as it stood before its invoices were paid: every invoice open for its full amount
    (the demo data has paid most of them; the statement drawn here is of those payments). Read as the matcher
    reads it in production (:func:`relance.cashapp.services.book_for`)."""
    from relance.cashapp import services

    return services.book_for(company, before_payments=True)


def run(params: dict[str, int], ctx: Context) -> dict[str, Any]:
    from django.db.models import Count

    from relance.cashapp import evaluation, services
    from relance.cashapp.models import PayerAccount
    from relance.demo.generator import Options, generate
    from relance.ledger.models import Customer, Document
    from relance.orgs.models import Company

    generate(Options(customers=params["customers"], invoices=params["invoices"], seed=params["seed"], as_of=AS_OF),
             progress=ctx.progress)  # fmt: skip
    company = Company.objects.annotate(n=Count("documents")).filter(n__gt=0).order_by("-n", "code").first()
    book = book_before_payments(company)
    names = dict(Customer.objects.filter(company=company).values_list("pk", "name"))
    lines, labels, known = labelled_set(list(book.items.values()), names, params["lines"], params["seed"])
    PayerAccount.objects.bulk_create(
        [PayerAccount(company=company, iban=payer_iban(c), customer_id=c, confirmations=2) for c in sorted(known)]
    )
    began = time.perf_counter()
    book = book_before_payments(company)
    book_seconds = time.perf_counter() - began
    began = time.perf_counter()
    result = evaluation.evaluate(lines, labels, book, services.config_for(company), convert=services.converter())
    match_seconds = time.perf_counter() - began
    scores = result.as_dict()
    # baseline: the plainest matcher, an exact lookup of the remittance text among invoice numbers
    numbers = dict(Document.objects.filter(company=company).values_list("number", "pk"))
    began = time.perf_counter()
    plain = sum(1 for x in lines if x.remittance.strip() in numbers)
    baseline_seconds = max(time.perf_counter() - began, 1e-6)
    items = len(book.items)
    lines_per_s = len(lines) / match_seconds if match_seconds else float("inf")
    projected = book_seconds * TARGET_ITEMS / max(items, 1) + TARGET_LINES / lines_per_s
    auto, precision = Decimal(scores["auto_share"] or "0"), Decimal(scores["precision"] or "0")
    return {
        "figures": {
            "company": company.code,
            "open_items": items,
            "lines": len(lines),
            "book_seconds": round(book_seconds, 2),
            "match_seconds": round(match_seconds, 2),
            "lines_per_s": round(lines_per_s),
            **{k: scores[k] for k in ("precision", "recall", "auto_share", "review_share", "unidentified_share")},
            "mistakes": scores["mistakes"][:5],
        },
        "baseline": {"lines_per_s": round(len(lines) / baseline_seconds), "exact_hits": plain},
        "ratio": {"lines_per_s_vs_baseline": round(lines_per_s / (len(lines) / baseline_seconds), 6)},
        "target": {
            "goal": f"≥{TARGET_AUTO:.0%} automatic at ≥{TARGET_PRECISION:.1%} precision; {TARGET_LINES:,} lines "
            f"against {TARGET_ITEMS:,} open items in under {TARGET_SECONDS:.0f} s",
            "seconds_for_target": round(projected, 1),
            "how": "measured" if items >= TARGET_ITEMS and len(lines) >= TARGET_LINES else "extrapolated linearly",
            "pass": projected < TARGET_SECONDS and auto >= TARGET_AUTO and precision >= TARGET_PRECISION,
        },
    }


register(
    Benchmark(
        name="cashapp",
        title="Cash matching: automatic share, precision and lines/s on a labelled set drawn from the demo data",
        run=run,
        params=(
            Param("customers", 2_000, "customer accounts (demo data)"),
            Param("invoices", 100_000, "invoices in total (demo data)"),
            Param("seed", 42, "random seed"),
            Param("lines", 10_000, "bank lines drawn from the open invoices (cashapp benchmark)"),
        ),
    )
)
