"""What the risk pages and PDFs show: the customer panel, the score history chart (inline SVG), the claim
statement and the risk diagnosis (reads through the user's scope; no rules here)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.html import escape

from relance.core import scope
from relance.core.money import quantize
from relance.ledger.models import Customer, Document

from . import domain, selectors
from .models import Claim, CreditInsuranceCover, CreditLimit, LegalEvent, LimitStatus, ScoreHistory


def history_svg(points: list[tuple[dt.date, int, str]], *, width: int = 520, height: int = 140) -> str:
    """Score over time as an inline SVG line with the class at each change (no JavaScript, prints in PDFs)."""
    if not points:
        return ""
    left, right, top, bottom = 34, 10, 10, 22
    first, last = points[0][0], points[-1][0]
    span = max(1, (last - first).days)

    def x(day: dt.date) -> float:
        return left + (width - left - right) * (day - first).days / span if len(points) > 1 else width / 2

    def y(score: int) -> float:
        return top + (height - top - bottom) * (100 - score) / 100

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(s):.1f}" for i, (d, s, _) in enumerate(points))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'style="max-width:{width}px;height:auto" role="img" class="risk-history">',
        f"<title>{escape('score')}</title>",
    ]
    for value in (0, 35, 50, 65, 80, 100):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#ddd"/>'
            f'<text x="{left - 4}" y="{y(value) + 3:.1f}" font-size="8" text-anchor="end">{value}</text>'
        )
    parts.append(f'<path d="{path}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    previous = ""
    for day, score, cls in points:
        parts.append(f'<circle cx="{x(day):.1f}" cy="{y(score):.1f}" r="2.5" fill="#1f5fa8"/>')
        if cls != previous:
            parts.append(
                f'<text x="{x(day):.1f}" y="{y(score) - 5:.1f}" font-size="9" text-anchor="middle">{cls}</text>'
            )
            previous = cls
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="8">{first.isoformat()}</text>')
    parts.append(
        f'<text x="{width - right}" y="{height - 6}" font-size="8" text-anchor="end">{last.isoformat()}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def customer_panel(user: Any, customer: Customer, *, as_of: dt.date, check: dict[str, Any] | None = None) -> dict:
    """Everything the risk section of the customer page shows."""
    summary = selectors.credit_summary(customer, as_of=as_of)
    history = list(
        ScoreHistory.objects.filter(customer=customer).order_by("as_of").values_list("as_of", "score", "risk_class")
    )
    events = (
        list(LegalEvent.objects.filter(legal_entity_id=customer.legal_entity_id).order_by("-published_on"))
        if customer.legal_entity_id
        else []
    )
    limits = list(CreditLimit.objects.filter(customer=customer).select_related("granted_by", "approved_by")[:20])
    return {
        "summary": summary,
        "history": history[-12:],
        "svg": history_svg(history[-60:]),
        "events": events,
        "covers": list(CreditInsuranceCover.objects.filter(customer=customer).order_by("-valid_from")[:5]),
        "claims": list(Claim.objects.filter(customer=customer).select_related("legal_event")),
        "pending": [limit for limit in limits if limit.status == LimitStatus.PENDING],
        "limits": limits[:5],
        "can_grant": scope.can(user, "grant_credit_limit"),
        "check": check,
    }


def claim_statement(claim: Claim, *, as_of: dt.date) -> dict[str, Any]:
    """The claim to declare: open documents, late-payment interest and indemnity up to the opening judgment
    (when interest stops running), else ``as_of``."""
    from relance.collections import interest

    customer = claim.customer
    until = min(as_of, claim.legal_event.judgment_date or claim.legal_event.published_on)
    documents = list(Document.objects.filter(customer=customer, open_amount__gt=0).order_by("due_date", "number"))
    invoices = [d for d in documents if d.type == "invoice"]
    lines = interest.lines_for(customer, invoices, until)
    totals: dict[str, Decimal] = {}
    for d in documents:
        sign = -1 if d.type == "credit_note" else 1
        totals[d.currency] = totals.get(d.currency, Decimal(0)) + sign * d.open_amount
    for line in lines:
        totals[line["currency"]] = totals.get(line["currency"], Decimal(0)) + line["amount"]
    return {
        "claim": claim,
        "customer": customer,
        "company": customer.company,
        "event": claim.legal_event,
        "documents": documents,
        "lines": lines,
        "totals": {cur: quantize(v, cur) for cur, v in totals.items()},
        "until": until,
        "as_of": as_of,
    }


def diagnosis(customer: Customer, *, as_of: dt.date) -> dict[str, Any]:
    """The one-page risk diagnosis: score and class history, reasons, exposure versus limit, behaviour, events."""
    from . import queries
    from .scoring import settings_for

    summary = selectors.credit_summary(customer, as_of=as_of)
    history = list(
        ScoreHistory.objects.filter(customer=customer).order_by("as_of").values_list("as_of", "score", "risk_class")
    )
    cfg = settings_for(customer.company.group_id)
    fig = queries.ledger_figures([customer.pk], as_of=as_of, cfg=cfg).get(customer.pk)
    stats = fig.stats if fig else domain.BehaviourStats()
    adbt = stats.average_days_beyond_terms
    behaviour = {
        "settled": stats.settled_count,
        "late": stats.recent.late + stats.prior.late,
        "dbt": adbt.quantize(Decimal("0.1")) if adbt is not None else None,
        "recent_mean": stats.recent.mean.quantize(Decimal("0.1")) if stats.recent.mean is not None else None,
        "prior_mean": stats.prior.mean.quantize(Decimal("0.1")) if stats.prior.mean is not None else None,
        "overdue": quantize(stats.overdue_amount, customer.company.currency),
        "oldest": stats.oldest_overdue_days,
    }
    events = (
        list(LegalEvent.objects.filter(legal_entity_id=customer.legal_entity_id).order_by("-published_on"))
        if customer.legal_entity_id
        else []
    )
    return {
        "customer": customer,
        "company": customer.company,
        "summary": summary,
        "svg": history_svg(history, width=640, height=170),
        "history": history,
        "behaviour": behaviour,
        "events": events,
        "as_of": as_of,
    }
