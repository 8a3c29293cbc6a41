"""Collections pages: the worklist, the call form, disputes, promises, the outbox, replies, scenarios, interest."""

from __future__ import annotations

from collections.abc import Callable
from decimal import InvalidOperation
from pathlib import PurePath
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relance.collections import interest, replies, rules, selectors, services, work
from relance.collections.models import DisputeReason, DisputeStatus, PromiseStatus, ReplyClass
from relance.core import clock, errors, scope
from relance.core.money import Money, to_decimal
from relance.core.vocab import Role
from relance.ledger import selectors as ledger_selectors
from relance.orgs.models import User

from .common import form_date, paginate, visible_or_404

COLLECT = "collect"


def _can_collect(user: Any) -> bool:
    return scope.can(user, COLLECT)


def _reason(row: dict[str, Any]) -> str:
    from relance.web.templatetags.relance import money, percent

    item = row["item"]
    if row.get("predicted"):
        text = _("%(amount)s overdue, oldest %(days)s days late; risk %(risk)s; predicted: %(p)s likely to pay")
    else:
        text = _("%(amount)s overdue, oldest %(days)s days late; risk %(risk)s: %(p)s likely to pay")
    return text % {
        "amount": money(item.overdue, item.currency),
        "days": item.oldest_days,
        "risk": item.risk_class or "—",
        "p": percent(row["probability"]),
    }


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    collectors = None
    collector: Any = user if getattr(user, "role", "") == Role.COLLECTOR and not user.is_superuser else None
    if collector is None:
        collectors = User.objects.filter(role=Role.COLLECTOR, is_active=True).order_by("email")
        wanted = request.GET.get("collector", "")
        if wanted:
            collector = collectors.filter(email=wanted).first()
    rows = selectors.worklist(user, as_of=as_of, collector=collector)
    for row in rows:
        row["reason"] = _reason(row)
    tasks = selectors.tasks(user, assignee=collector) if collector is not None else selectors.tasks(user)
    return render(
        request,
        "web/collections/worklist.html",
        {
            "section": "collections",
            "rows": rows,
            "tasks": paginate(request, tasks),  # every open task is reachable, 50 a page
            "as_of": as_of,
            "collector": collector,
            "collectors": collectors,
            "can_collect": _can_collect(user),
        },
    )


def _money(value: str, currency: str, field: str) -> Money | None:
    value = (value or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        return Money(to_decimal(value, field=field), currency)
    except (InvalidOperation, errors.ValidationError):
        raise errors.ValidationError(_("%(value)s is not an amount.") % {"value": value}, field=field)


@login_required
def call_form(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = visible_or_404(ledger_selectors.customer, user, pk)
    open_docs = list(
        ledger_selectors.documents(user, ledger_selectors.DocumentFilters(customer=customer.pk, status="open"))
        .filter(type="invoice")
        .order_by("due_date")
    )
    task = None
    if request.GET.get("task") or request.POST.get("task"):
        task = (
            selectors.tasks(user, customer_id=customer.pk)
            .filter(pk=request.GET.get("task") or request.POST.get("task"))
            .first()
        )
    if request.method == "POST":
        if not _can_collect(user):
            raise PermissionDenied
        post = request.POST
        chosen = {int(x) for x in post.getlist("documents") if x.isdigit()}
        docs = [d for d in open_docs if d.pk in chosen]
        currency = docs[0].currency if docs else (open_docs[0].currency if open_docs else customer.company.currency)
        try:
            amount = _money(post.get("promise_amount", ""), currency, "promise_amount")
            result = work.call_log(
                actor=user,
                customer=customer,
                outcome=post.get("outcome", ""),
                note=post.get("note", "").strip(),
                promise_amount=amount,
                promise_date=form_date(post.get("promise_date", ""), "promise_date"),
                promise_documents=docs if amount is not None else [],
                dispute_documents=docs if post.get("dispute") else [],
                dispute_reason=post.get("dispute_reason", ""),
                next_action_on=form_date(post.get("next_action_on", ""), "next_action_on"),
                task=task,
            )
        except errors.RelanceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Call logged."))
            if result["promise"]:
                messages.info(request, _("Promise recorded."))
            return redirect("web:collections_worklist")
    return render(
        request,
        "web/collections/call.html",
        {
            "section": "collections",
            "customer": customer,
            "documents": open_docs,
            "task": task,
            "reasons": DisputeReason.choices,
            "outcomes": [
                ("reached", _("Reached")),
                ("no_answer", _("No answer")),
                ("wrong_contact", _("Wrong contact")),
            ],
            "contacts": ledger_selectors.contacts(user, customer.pk),
            "can_collect": _can_collect(user),
            "post": request.POST if request.method == "POST" else {},
        },
    )


def _collector_action(
    request: HttpRequest, visible: QuerySet, pk: int, act: Callable[[Any], str | None], back: str
) -> HttpResponse:
    """The shape every collector's POST action shares: the object within the user's scope (404 otherwise, exactly
    like a missing one), the ``collect`` permission (403), the service call and its message, back to ``back``."""
    obj = visible.filter(pk=pk).first()
    if obj is None:
        raise Http404()
    if not _can_collect(request.user):
        raise PermissionDenied
    try:
        done = act(obj)
    except errors.RelanceError as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
    return redirect(back)


def _next_or(request: HttpRequest, default: str) -> str:
    """The ``next`` field when it points to this site (never an open redirect), else ``default``."""
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure()):
        return wanted
    return default


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    def act(task: Any) -> None:
        work.task_done(actor=request.user, task=task, status="cancelled" if request.POST.get("cancel") else "done")

    back = _next_or(request, "web:collections_worklist")
    return _collector_action(request, selectors.tasks(request.user, status=""), pk, act, back)


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "open")
    qs = selectors.disputes(user, status=status if status in DisputeStatus.values else None).prefetch_related(
        "documents"
    )
    page = paginate(request, qs)
    today = clock.today()
    labels = dict(DisputeReason.choices)
    for d in page:
        d.age = ((d.resolved_on or today) - d.opened_on).days
        d.reason_label = labels.get(d.reason, d.reason)
    return render(
        request,
        "web/collections/disputes.html",
        {
            "section": "collections",
            "page": page,
            "status": status,
            "statuses": DisputeStatus.choices,
            "can_collect": _can_collect(user),
        },
    )


@login_required
@require_POST
def dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def act(dispute: Any) -> str:
        services.dispute_resolve(actor=request.user, dispute=dispute, status=request.POST.get("status", ""))
        return _("Dispute resolved.")

    return _collector_action(request, selectors.disputes(request.user), pk, act, "web:collections_disputes")


@login_required
def promise_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    status = request.GET.get("status", "open")
    qs = selectors.promises(user, status=status if status in PromiseStatus.values else None).prefetch_related(
        "documents"
    )
    return render(
        request,
        "web/collections/promises.html",
        {
            "section": "collections",
            "page": paginate(request, qs.order_by("promised_for", "id")),
            "status": status,
            "statuses": PromiseStatus.choices,
            "can_collect": _can_collect(user),
            "as_of": clock.today(),
        },
    )


@login_required
@require_POST
def promise_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def act(promise: Any) -> str:
        services.promise_cancel(actor=request.user, promise=promise)
        return _("Promise cancelled.")

    return _collector_action(request, selectors.promises(request.user), pk, act, "web:collections_promises")


@login_required
def action_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    channel = request.GET.get("channel", "")
    status = request.GET.get("status", "")
    qs = selectors.actions(user, channel=channel, status=status).order_by("-run_date", "-id")
    return render(
        request,
        "web/collections/actions.html",
        {"section": "collections", "page": paginate(request, qs), "channel": channel, "status": status},
    )


@login_required
def action_file(request: HttpRequest, pk: int) -> FileResponse:
    action = visible_or_404(selectors.action, request.user, pk)
    if not action.file:
        raise Http404()
    return FileResponse(
        action.file.open("rb"),
        as_attachment=False,
        filename=PurePath(action.file.name).name,
        content_type="application/pdf",
    )


@login_required
def reply_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    pending = request.GET.get("all") != "1"
    return render(
        request,
        "web/collections/replies.html",
        {
            "section": "collections",
            "page": paginate(request, selectors.replies(user, pending=pending)),
            "pending": pending,
            "classes": ReplyClass.choices,
            "can_collect": _can_collect(user),
        },
    )


@login_required
@require_POST
def reply_update(request: HttpRequest, pk: int) -> HttpResponse:
    def act(reply: Any) -> None:
        if request.POST.get("classification"):
            replies.reply_classify(actor=request.user, reply=reply, classification=request.POST["classification"])
        if request.POST.get("handled"):
            replies.reply_handle(actor=request.user, reply=reply)

    return _collector_action(request, selectors.replies(request.user), pk, act, "web:collections_replies")


@login_required
def scenarios(request: HttpRequest) -> HttpResponse:
    user = request.user
    can_edit = scope.can(user, rules.MANAGE)
    current = rules.active_version()
    text = current.text if current else ""
    problems: list[tuple[int, str]] = []
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        text = request.POST.get("text", "").replace("\r\n", "\n")
        try:
            row = rules.rulebook_load(
                actor=user, text=text, source=_("the document"), comment=request.POST.get("comment", "")
            )
        except errors.ValidationError as exc:
            problems = getattr(exc, "problems", []) or [(0, exc.message)]
        else:
            messages.success(request, _("Version %(version)s is in force.") % {"version": row.version})
            return redirect("web:collections_scenarios")
    book, version = rules.active_rulebook()
    from relance.collections.models import RulebookVersion

    return render(
        request,
        "web/collections/scenarios.html",
        {
            "section": "collections",
            "text": text,
            "book": book,
            "version": version,
            "problems": problems,
            "can_edit": can_edit,
            "versions": RulebookVersion.objects.order_by("-version")[:20],
        },
    )


@login_required
def interest_statement(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = visible_or_404(ledger_selectors.customer, user, pk)
    as_of = clock.today()
    currency = request.GET.get("currency") or customer.company.currency
    try:
        statement = interest.statement(customer, currency, as_of)
    except LookupError as exc:
        statement, messages_text = None, str(exc)
        messages.error(request, messages_text)
    return render(
        request,
        "web/collections/interest.html",
        {"section": "collections", "customer": customer, "statement": statement, "as_of": as_of},
    )


def customer_section(user: Any, customer: Any) -> dict[str, Any]:
    """The collections part of the customer 360 page."""
    return {
        "promises": list(selectors.promises(user, customer_id=customer.pk)[:10]),
        "tasks": list(selectors.tasks(user, customer_id=customer.pk)[:10]),
        "actions": list(selectors.actions(user, customer_id=customer.pk).order_by("-run_date", "-id")[:10]),
        "activities": list(selectors.activities(user, customer_id=customer.pk)[:20]),
        "replies": list(selectors.replies(user, customer_id=customer.pk, pending=True)[:5]),
        "can_collect": _can_collect(user),
    }
