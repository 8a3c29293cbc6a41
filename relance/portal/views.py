"""The customer's pages. They translate requests into portal selectors and services; no rules here.

Every page under ``/p/<token>/`` goes through :func:`portal_page`: a wrong, expired or revoked token gets the
same neutral page (404, no data); too many attempts from one address get it too (429). POSTs are CSRF-protected
by Django's middleware and rate-limited per link and per address.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from relance.collections.models import DisputeReason
from relance.core import clock, errors

from . import actions, payments, providers, ratelimit, selectors, services
from .messages import shown
from .models import PortalLink, SessionStatus

LANG_SESSION_KEY = "portal_lang"


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _secure(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no token to other sites; same-origin keeps CSRF checks
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def neutral(request: HttpRequest, status: int = 404) -> HttpResponse:
    """The same page, with no data, for a wrong, expired or revoked link (and for too many attempts)."""
    return _secure(render(request, "portal/invalid.html", status=status))


def _language(request: HttpRequest, link: PortalLink) -> str:
    wanted = request.GET.get("lang", "")
    if wanted in _languages():
        request.session[LANG_SESSION_KEY] = wanted
        return wanted
    chosen = request.session.get(LANG_SESSION_KEY, "")
    if chosen in _languages():
        return chosen
    for candidate in (link.contact.language if link.contact else "", link.customer.language):
        if candidate in _languages():
            return candidate
    return "fr"


def portal_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Resolve the token (or show the neutral page), count the request, set the customer's language."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
        ip = ratelimit.client_ip(request)
        if ratelimit.blocked("invalid_ip", ip) or not ratelimit.hit("view_ip", ip):
            return neutral(request, 429)
        link = services.link_resolve(token)
        if link is None:
            ratelimit.hit("invalid_ip", ip)
            return neutral(request)
        if request.method == "POST" and not (
            ratelimit.hit("action_link", link.digest) and ratelimit.hit("action_ip", ip)
        ):
            return _secure(render(request, "portal/limited.html", status=429))
        language = _language(request, link)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, link, token, **kwargs)
            response["Content-Language"] = language
        return _secure(response)

    return wrapper


def _context(request: HttpRequest, link: PortalLink, token: str, **extra: Any) -> dict[str, Any]:
    return {
        "link": link,
        "token": token,
        "customer": link.customer,
        "company": link.customer.company,
        "contact": link.contact,
        "today": clock.today(link.customer.company.timezone),
        "languages": settings.LANGUAGES,
        **extra,
    }


def _url(name: str, token: str, **kwargs: Any) -> str:
    return reverse(f"portal:{name}", kwargs={"token": token, **kwargs})


def _home(request: HttpRequest, link: PortalLink, token: str, *, error: str = "", status: int = 200) -> HttpResponse:
    today = clock.today(link.customer.company.timezone)
    rows = selectors.invoices(link, as_of=today)
    return render(
        request,
        "portal/home.html",
        _context(
            request, link, token,
            rows=rows,
            totals=selectors.totals(rows, as_of=today),
            disputes=selectors.disputes(link),
            promises=selectors.promises(link),
            error=error,
        ),
        status=status,
    )  # fmt: skip


@require_http_methods(["GET"])
@portal_page
def home(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    actions.visit(link)
    return _home(request, link, token)


@require_POST
@portal_page
def pay(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    try:
        selection = payments.selection_get_or_create(link=link, document_ids=request.POST.getlist("doc"))
    except errors.ValidationError as exc:
        return _home(request, link, token, error=shown(exc), status=400)
    return HttpResponseRedirect(_url("pay_selection", token, selection=selection.pk))


@require_http_methods(["GET"])
@portal_page
def pay_selection(request: HttpRequest, link: PortalLink, token: str, selection: int) -> HttpResponse:
    sel = selectors.selection(link, selection)
    if sel is None:
        return neutral(request)
    details = payments.bank_details(link.customer.company, sel.currency)
    transfer = payments.epc_transfer(sel, details)
    return render(
        request,
        "portal/pay.html",
        _context(
            request, link, token,
            selection=sel,
            documents=sel.documents.order_by("due_date", "number"),
            amount=payments.selection_open_amount(sel),
            details=details,
            qr=payments.epc_qr_svg(transfer) if transfer else "",
            euro=sel.currency == "EUR",
            online=providers.enabled(),
        ),
    )  # fmt: skip


@require_POST
@portal_page
def pay_online(request: HttpRequest, link: PortalLink, token: str, selection: int) -> HttpResponse:
    sel = selectors.selection(link, selection)
    if sel is None:
        return neutral(request)
    if not providers.enabled():
        return neutral(request)
    base = services.base_url()
    try:
        _session, redirect_url = payments.session_start(
            link=link,
            selection=sel,
            return_url=base + _url("pay_done", token, selection=sel.pk),
            webhook_url=base + reverse("portal:webhook", kwargs={"provider": providers.get().name}),
        )
    except errors.ValidationError as exc:
        return _home(request, link, token, error=shown(exc), status=400)
    return HttpResponseRedirect(redirect_url)


@require_http_methods(["GET"])
@portal_page
def pay_done(request: HttpRequest, link: PortalLink, token: str, selection: int) -> HttpResponse:
    sel = selectors.selection(link, selection)
    if sel is None:
        return neutral(request)
    session = selectors.last_session(link, sel)
    return render(
        request,
        "portal/pay_done.html",
        _context(request, link, token, selection=sel, session=session, statuses=SessionStatus),
    )


def _checked(request: HttpRequest) -> set[int]:
    out = set()
    for value in request.GET.getlist("doc") + request.POST.getlist("doc"):
        if value.isdigit():
            out.add(int(value))
    return out


@require_http_methods(["GET", "POST"])
@portal_page
def promise(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    today = clock.today(link.customer.company.timezone)
    error, field = "", ""
    if request.method == "POST":
        try:
            actions.promise_make(
                link=link,
                document_ids=request.POST.getlist("doc"),
                amount=request.POST.get("amount", ""),
                promised_for=request.POST.get("date", ""),
            )
            return HttpResponseRedirect(_url("home", token) + "?done=promise")
        except errors.ValidationError as exc:
            error, field = shown(exc), exc.field or ""
    rows = selectors.invoices(link, as_of=today)
    return render(
        request,
        "portal/promise.html",
        _context(request, link, token, rows=rows, checked=_checked(request), error=error, field=field,
                 form=request.POST),
        status=400 if error else 200,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@portal_page
def dispute(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    today = clock.today(link.customer.company.timezone)
    error, field = "", ""
    if request.method == "POST":
        try:
            actions.dispute_make(
                link=link,
                document_ids=request.POST.getlist("doc"),
                reason=request.POST.get("reason", ""),
                message=request.POST.get("message", ""),
                upload=request.FILES.get("attachment"),
            )
            return HttpResponseRedirect(_url("home", token) + "?done=dispute")
        except errors.ValidationError as exc:
            error, field = shown(exc), exc.field or ""
    rows = selectors.invoices(link, as_of=today)
    return render(
        request,
        "portal/dispute.html",
        _context(request, link, token, rows=rows, checked=_checked(request), error=error, field=field,
                 reasons=DisputeReason.choices, form=request.POST,
                 max_mb=actions.max_upload_bytes() // (1024 * 1024)),
        status=400 if error else 200,
    )  # fmt: skip


@require_http_methods(["GET", "POST"])
@portal_page
def contact(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            actions.contact_update(
                link=link,
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
            )
            return HttpResponseRedirect(_url("home", token) + "?done=contact")
        except errors.ValidationError as exc:
            error = shown(exc)
    current = link.customer.contacts.filter(is_main_ap=True).first() or link.contact
    return render(
        request,
        "portal/contact.html",
        _context(request, link, token, current=current, error=error, form=request.POST),
        status=400 if error else 200,
    )


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET"])
@portal_page
def document_pdf(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    from relance.channels.pdf import document_pdf as make_pdf

    doc = selectors.document(link, pk)
    if doc is None:
        return neutral(request)
    filename, data = make_pdf(doc)
    return _pdf(data, filename)


@require_http_methods(["GET"])
@portal_page
def statement_pdf(request: HttpRequest, link: PortalLink, token: str) -> HttpResponse:
    from relance.channels.pdf import render_pdf, safe_name

    today = clock.today(link.customer.company.timezone)
    context = _context(request, link, token, **selectors.statement(link, as_of=today))
    data = render_pdf("portal/statement_pdf.html", context, language=translation.get_language() or "fr")
    return _pdf(data, safe_name(f"statement-{link.customer.reference}-{today.isoformat()}") + ".pdf")


@require_http_methods(["GET"])
@portal_page
def attachment(request: HttpRequest, link: PortalLink, token: str, pk: int) -> HttpResponse:
    found = selectors.attachment(link, pk)
    if found is None:
        return neutral(request)
    response = FileResponse(found.file.open("rb"), content_type=found.content_type, as_attachment=True,
                            filename=f"attachment-{found.pk}.{found.file.name.rsplit('.', 1)[-1]}")  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    return _secure(response)


# --- provider side ----------------------------------------------------------------------------------------------


@csrf_exempt  # a server-to-server call, authenticated by its HMAC signature instead
@require_POST
def webhook(request: HttpRequest, provider: str) -> HttpResponse:
    if not providers.enabled() or provider != providers.get().name:
        return HttpResponse("unknown provider", status=404, content_type="text/plain")
    headers = {key: value for key, value in request.headers.items()}
    try:
        outcome = payments.webhook_receive(provider_name=provider, body=request.body, headers=headers)
    except providers.InvalidWebhook as exc:
        return HttpResponse(f"refused: {exc}", status=400, content_type="text/plain")
    return HttpResponse(outcome, status=200, content_type="text/plain")


@require_http_methods(["GET", "POST"])
def test_provider(request: HttpRequest) -> HttpResponse:
    """The built-in test provider's hosted payment page (what Stripe Checkout or Mollie would show)."""
    if not providers.enabled() or providers.get().name != "test":
        return neutral(request)
    provider = providers.get()
    assert isinstance(provider, providers.TestProvider)
    blob = request.GET.get("s", "") or request.POST.get("s", "")
    state = provider.read_state(blob)
    if state is None:
        return neutral(request)
    if request.method == "POST":
        outcome = providers.PAID if request.POST.get("outcome") == "pay" else providers.FAILED
        status = provider.complete(state, outcome, now=clock.now())
        if status != 200:
            context = {"state": state, "blob": blob, "delivery_failed": status}
            return _secure(render(request, "portal/test_provider.html", context, status=502))
        return HttpResponseRedirect(state["return"])
    return _secure(render(request, "portal/test_provider.html", {"state": state, "blob": blob}))
