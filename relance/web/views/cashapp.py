"""Cash application pages: the review queue and one bank line (confirm, edit or split, unapply)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relance.cashapp import selectors, services
from relance.cashapp.domain import Proposal
from relance.cashapp.models import LineStatus
from relance.core import clock, errors, scope
from relance.ledger.models import Customer, Document

from .common import paginate, visible_or_404

TABS = (
    ("review", gettext_lazy("To review")),
    ("unidentified", gettext_lazy("Unidentified")),
    ("applied", gettext_lazy("Applied")),
    ("returns", gettext_lazy("Returns")),
)


@login_required
def cash_queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    queue = request.GET.get("queue", "review")
    if queue not in selectors.QUEUES:
        queue = "review"
    page = paginate(request, selectors.lines(user, queue, request.GET.get("company", "")))
    counts = selectors.counts(user)
    for line in page:
        proposals = (line.proposal or {}).get("proposals") or []
        line.best = proposals[0] if proposals else None
    return render(
        request,
        "web/cashapp_queue.html",
        {
            "page": page,
            "queue": queue,
            "tabs": [(key, label, counts[key]) for key, label in TABS],
            "as_of": clock.today(),
            "can_allocate": scope.can(user, "allocate"),
            "unidentified_payments": selectors.unidentified_payments(user)[:20] if queue == "unidentified" else [],
        },
    )


def _documents(proposal: dict[str, Any]) -> list[dict[str, Any]]:
    docs = {d.pk: d for d in Document.objects.filter(pk__in=[s["document_id"] for s in proposal.get("shares", [])])}
    return [{**s, "document": docs.get(s["document_id"])} for s in proposal.get("shares", [])]


@login_required
def cash_line(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    line = visible_or_404(selectors.line, user, pk)
    if request.method == "POST":
        if not scope.can(user, "allocate"):
            raise PermissionDenied
        try:
            _act(request, line)
        except errors.RelanceError as exc:
            messages.error(request, exc.message)
        return redirect("web:cash_line", pk=line.pk)
    proposals = [{**p, "documents": _documents(p)} for p in (line.proposal or {}).get("proposals") or []]
    applied = (line.proposal or {}).get("applied")
    customer_id = request.GET.get("customer") or line.customer_id
    customer = None
    if customer_id:
        customer = selectors.customer_choices(user, line.company_id).filter(pk=customer_id).first()
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "web/cashapp_line.html",
        {
            "line": line,
            "proposals": proposals,
            "applied": {**applied, "documents": _documents(applied["proposal"])} if applied else None,
            "customer": customer,
            "open_documents": list(selectors.open_documents(user, customer.pk)[:200]) if customer else [],
            "search": q,
            "search_results": list(selectors.customer_choices(user, line.company_id, q)[:20]) if q else [],
            "can_allocate": scope.can(user, "allocate"),
            "is_open": line.status in (LineStatus.REVIEW, LineStatus.UNIDENTIFIED, LineStatus.NEW) and line.amount > 0,
            "as_of": clock.today(),
        },
    )


def _act(request: HttpRequest, line: Any) -> None:
    user, action = request.user, request.POST.get("action", "")
    if action == "confirm":
        proposals = (line.proposal or {}).get("proposals") or []
        try:
            chosen = Proposal.from_dict(proposals[int(request.POST.get("proposal", "0"))])
        except (IndexError, ValueError):
            raise errors.ValidationError(_("This suggestion no longer exists."), field="proposal")
        _check_customer(user, chosen.customer_id)
        # the suggestion as it was made, its booked difference (fees, discount) included
        chosen = replace(chosen, reasons=(*chosen.reasons, _("Confirmed by %(user)s.") % {"user": user.email}))
        services.line_apply(actor=user, line=line, proposal=chosen, learn=True)
        messages.success(request, _("Applied."))
    elif action == "split":
        customer_id = int(request.POST.get("customer", "0") or 0)
        _check_customer(user, customer_id)
        shares = []
        for key, value in request.POST.items():
            if key.startswith("amount-") and value.strip():
                try:
                    amount = Decimal(value.replace(",", ".").strip())
                except InvalidOperation:
                    raise errors.ValidationError(_("%(value)s is not an amount.") % {"value": value}, field="amount")
                shares.append((int(key.removeprefix("amount-")), amount))
        services.line_confirm(actor=user, line=line, customer_id=customer_id, shares=shares)
        messages.success(request, _("Applied."))
    elif action == "unapply":
        services.line_unapply(actor=user, line=line, reason=request.POST.get("reason", ""))
        messages.success(request, _("Unapplied: the allocations were reversed."))
    else:
        raise errors.ValidationError(_("Unknown action."), field="action")


def _check_customer(user: Any, customer_id: int | None) -> None:
    """The customer chosen must be within the user's scope (an id outside it looks like a missing one)."""
    if not customer_id or not scope.restrict(user, Customer.objects.filter(pk=customer_id)).exists():
        raise errors.ValidationError(_("Choose a customer you may see."), field="customer")
