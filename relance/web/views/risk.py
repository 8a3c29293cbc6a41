"""Risk pages: the customer's risk section actions (credit check, limits, block), the alert inbox, blocked
customers, claims, and the PDFs (risk diagnosis, claim statement). Rules live in relance.risk."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relance.alerts import selectors as alert_selectors
from relance.alerts import services as alert_services
from relance.alerts.models import Alert
from relance.channels.pdf import render_pdf, safe_name
from relance.core import clock, errors, scope
from relance.ledger import selectors as ledger_selectors
from relance.orgs.models import User
from relance.risk import reasons, report, selectors, services
from relance.risk.models import Claim, CreditLimit

from .common import form_date, paginate, visible_or_404


def customer_section(request: HttpRequest, customer: Any) -> dict[str, Any]:
    """The context of ``web/customer/_risk.html`` (with the credit check's answer when asked by GET)."""
    check = None
    if "check_amount" in request.GET:
        check = {"amount": request.GET.get("check_amount", ""), "currency": request.GET.get("check_currency", "")}
        check["terms"] = request.GET.get("check_terms", "") or str(customer.payment_terms_days)
        try:
            result = selectors.credit_check(
                request.user,
                customer,
                amount=check["amount"],
                currency=check["currency"] or customer.company.currency,
                payment_terms_days=int(check["terms"]),
            )
            check["result"] = result
            check["reasons"] = reasons.texts(result.reasons)
        except (errors.RelanceError, ValueError) as exc:
            check["error"] = getattr(exc, "message", str(exc))
    return report.customer_panel(request.user, customer, as_of=clock.today(), check=check)


def attach_credit(customers: list[Any]) -> None:
    """Set ``customer.credit`` (score, class, limit, exposure, utilisation) on a page of customers."""
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(customers, "risk")
    selectors.attach_credit(customers)
    for customer in customers:
        customer.credit = selectors.credit_summary(customer)


@login_required
@require_POST
def limit_grant(request: HttpRequest, pk: int) -> HttpResponse:
    customer = visible_or_404(ledger_selectors.customer, request.user, pk)
    try:
        limit = services.limit_grant(
            actor=request.user,
            customer=customer,
            amount=request.POST.get("amount", ""),
            expires_on=form_date(request.POST.get("expires_on", ""), "expires_on"),
            note=request.POST.get("note", ""),
        )
    except errors.PermissionDenied:
        raise PermissionDenied
    except errors.RelanceError as exc:
        messages.error(request, exc.message)
    else:
        if limit.status == "pending":
            messages.success(request, _("Limit recorded: it needs a second approver (four eyes)."))
        else:
            messages.success(request, _("Limit granted."))
    return redirect(f"{customer_url(customer.pk)}#risk")


def customer_url(pk: int) -> str:
    from django.urls import reverse

    return reverse("web:customer_detail", args=[pk])


@login_required
@require_POST
def limit_decide(request: HttpRequest, pk: int) -> HttpResponse:
    limit = CreditLimit.objects.select_related("customer").filter(pk=pk).first()
    if limit is None or not scope.restrict(request.user, CreditLimit.objects.filter(pk=pk)).exists():
        raise Http404()
    try:
        if request.POST.get("decision") == "approve":
            services.limit_approve(actor=request.user, limit=limit)
            messages.success(request, _("Limit approved."))
        else:
            services.limit_reject(actor=request.user, limit=limit, note=request.POST.get("note", ""))
            messages.success(request, _("Limit rejected."))
    except errors.PermissionDenied as exc:
        if exc.message == errors.PermissionDenied().message:
            raise PermissionDenied
        messages.error(request, exc.message)
    except errors.RelanceError as exc:
        messages.error(request, exc.message)
    return redirect(f"{customer_url(limit.customer_id)}#risk")


@login_required
@require_POST
def block(request: HttpRequest, pk: int) -> HttpResponse:
    customer = visible_or_404(ledger_selectors.customer, request.user, pk)
    blocked = request.POST.get("blocked") == "1"
    try:
        services.customer_block(
            actor=request.user, customer=customer, blocked=blocked, reason=request.POST.get("reason", "")
        )
    except errors.PermissionDenied:
        raise PermissionDenied
    messages.success(request, _("Customer blocked.") if blocked else _("Customer unblocked."))
    return redirect(f"{customer_url(customer.pk)}#risk")


@login_required
def blocked_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.blocked_customers(request.user))
    return render(request, "web/risk/blocked.html", {"page": page, "section": "risk"})


@login_required
def alert_inbox(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "live")
    if status not in ("live", "open", "acknowledged", "closed", "all"):
        status = "live"
    kind = request.GET.get("kind", "")
    qs = alert_selectors.alerts_for(request.user, status=None if status == "all" else status, kind=kind or None)
    if request.GET.get("mine"):
        qs = qs.filter(assigned_to=request.user)
    page = paginate(request, qs.order_by("-raised_on", "-id"))
    return render(
        request,
        "web/risk/alerts.html",
        {"page": page, "status": status, "kind": kind, "mine": bool(request.GET.get("mine")), "section": "alerts"},
    )


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert(request.user, pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "acknowledge":
                alert_services.alert_acknowledge(actor=request.user, alert=alert)
                messages.success(request, _("Alert acknowledged."))
            elif action == "assign":
                assignee = User.objects.filter(pk=request.POST.get("user") or 0, is_active=True).first()
                alert_services.alert_assign(actor=request.user, alert=alert, user=assignee)
                messages.success(request, _("Alert assigned."))
            elif action == "comment":
                alert_services.alert_comment(actor=request.user, alert=alert, text=request.POST.get("text", ""))
                messages.success(request, _("Comment added."))
        except errors.PermissionDenied:
            raise PermissionDenied
        except errors.RelanceError as exc:
            messages.error(request, exc.message)
        return redirect("web:alert_detail", pk=alert.pk)
    assignees = [
        u
        for u in User.objects.filter(is_active=True).order_by("email")[:200]
        if scope.restrict(u, Alert.objects.filter(pk=alert.pk)).exists()
    ]
    return render(
        request,
        "web/risk/alert_detail.html",
        {
            "alert": alert,
            "comments": alert.comments.select_related("author"),
            "assignees": assignees,
            "can_handle": scope.can(request.user, alert_services.HANDLE),
            "section": "alerts",
        },
    )


def _alert(user: Any, pk: int) -> Alert:
    try:
        return scope.get_visible(user, Alert.objects.select_related("company", "customer", "assigned_to"), pk=pk)
    except errors.NotFound:
        raise Http404()


@login_required
def claims(request: HttpRequest) -> HttpResponse:
    page = paginate(request, selectors.claims(request.user))
    return render(request, "web/risk/claims.html", {"page": page, "as_of": clock.today(), "section": "risk"})


@login_required
@require_POST
def claim_declare(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request.user, pk)
    try:
        declared_on = form_date(request.POST.get("declared_on", ""), "declared_on") or clock.today()
        services.claim_declare(actor=request.user, claim=claim, declared_on=declared_on)
        messages.success(request, _("Claim marked as declared."))
    except errors.PermissionDenied:
        raise PermissionDenied
    except errors.RelanceError as exc:
        messages.error(request, exc.message)
    return redirect("web:risk_claims")


def _claim(user: Any, pk: int) -> Claim:
    try:
        return scope.get_visible(user, Claim.objects.select_related("customer__company", "legal_event"), pk=pk)
    except errors.NotFound:
        raise Http404()


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def claim_statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(request.user, pk)
    context = report.claim_statement(claim, as_of=clock.today())
    language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("fr", "en") else "fr"
    data = render_pdf("risk/pdf/claim_statement.html", context, language=language)
    return _pdf(data, f"claim-{safe_name(claim.customer.reference)}.pdf")


@login_required
def diagnosis_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    customer = visible_or_404(ledger_selectors.customer, request.user, pk)
    context = report.diagnosis(customer, as_of=clock.today())
    language = request.LANGUAGE_CODE if request.LANGUAGE_CODE in ("fr", "en") else "fr"
    data = render_pdf("risk/pdf/diagnosis.html", context, language=language)
    return _pdf(data, f"risk-{safe_name(customer.reference)}.pdf")
