"""Staff side of the customer portal: create or revoke a customer's links, download a dispute attachment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relance.core import scope
from relance.ledger import selectors as ledger_selectors
from relance.portal import services
from relance.portal.models import DisputeAttachment

from .common import visible_or_404

COLLECT = "collect"


def _back(pk: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("web:customer_detail", kwargs={"pk": pk}) + "#portal")


@login_required
@require_POST
def portal_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = visible_or_404(ledger_selectors.customer, request.user, pk)
    if not scope.can(request.user, COLLECT):
        raise PermissionDenied
    link, token = services.link_create(customer=customer, actor=request.user)
    messages.success(request, _("New portal link (shown once): %(url)s") % {"url": services.portal_url(token)})
    return _back(customer.pk)


@login_required
@require_POST
def portal_link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    customer = visible_or_404(ledger_selectors.customer, request.user, pk)
    if not scope.can(request.user, COLLECT):
        raise PermissionDenied
    n = services.link_revoke(actor=request.user, customer=customer)
    messages.success(request, _("%(n)s portal link(s) revoked.") % {"n": n})
    return _back(customer.pk)


@login_required
def portal_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    found = scope.restrict(request.user, DisputeAttachment.objects.filter(pk=pk)).first()
    if found is None:
        raise Http404
    extension = found.file.name.rsplit(".", 1)[-1]
    response = FileResponse(found.file.open("rb"), content_type=found.content_type, as_attachment=True,
                            filename=f"dispute-{found.dispute_id}-{found.pk}.{extension}")  # fmt: skip
    response["X-Content-Type-Options"] = "nosniff"
    return response
