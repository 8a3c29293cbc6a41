"""Document list, document detail and the download of a document's original file."""

from __future__ import annotations

import datetime as dt
import mimetypes
from pathlib import PurePath

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from relance.collections.models import Dispute
from relance.core import clock, errors, scope
from relance.core.vocab import DocumentType
from relance.ledger import domain, selectors
from relance.ledger.models import Document
from relance.orgs.models import Company
from relance.web import queries
from relance.web.forms import SORT_DOCUMENTS, DocumentFilterForm

from .common import label_disputes, paginate, visible_or_404


def _days_overdue(doc: Document, as_of: dt.date) -> int:
    """Days overdue of an open invoice; zero for credit notes and settled documents."""
    if doc.type != DocumentType.INVOICE or not doc.open_amount:
        return 0
    return domain.days_overdue(doc.due_date, as_of)


@login_required
def document_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    form = DocumentFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        documents = selectors.documents(user).none()
    else:
        filters = form.filters() if form.is_bound else selectors.DocumentFilters()
        documents = selectors.documents(user, filters, as_of=as_of)
    sort = form.sort_key if form.is_bound else SORT_DOCUMENTS[0][0]
    page = paginate(request, documents.order_by(sort, "-id"))
    for doc in page:
        doc.days_overdue = _days_overdue(doc, as_of)
    customer = None
    if form.is_bound and form.is_valid() and form.cleaned_data["customer"]:
        try:
            customer = selectors.customer(user, form.cleaned_data["customer"])
        except errors.NotFound:
            customer = None  # the list is empty anyway: the selector filtered within scope
    return render(
        request,
        "web/document_list.html",
        {
            "form": form,
            "page": page,
            "sort": sort,
            "sort_choices": SORT_DOCUMENTS,
            "as_of": as_of,
            "filter_customer": customer,
            "companies": scope.restrict(user, Company.objects.all()).order_by("code"),
            "currencies": queries.currencies(user),
            "type_choices": DocumentType.choices,
        },
    )


@login_required
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    as_of = clock.today()
    document = visible_or_404(selectors.document, user, pk)
    document.days_overdue = _days_overdue(document, as_of)
    corrects = None
    if document.corrects_id:
        try:
            corrects = selectors.document(user, document.corrects_id)
        except errors.NotFound:
            corrects = None
    return render(
        request,
        "web/document_detail.html",
        {
            "document": document,
            "as_of": as_of,
            "allocations_in": selectors.allocations(user, target_id=document.pk).order_by("date", "id"),
            "allocations_out": selectors.allocations(user, credit_note_id=document.pk)
            .select_related("target")
            .order_by("date", "id"),
            "corrects": corrects,
            "corrections": selectors.documents(user).filter(corrects_id=document.pk).order_by("issue_date", "id"),
            "disputes": label_disputes(
                scope.restrict(user, Dispute.objects.filter(documents=document.pk)).select_related("owner")
            ),
            "file_name": PurePath(document.original_file.name).name if document.original_file else "",
        },
    )


@login_required
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    """The original file of a document the user may see; the path never comes from the request."""
    document = visible_or_404(selectors.document, request.user, pk)
    if not document.original_file:
        raise Http404()
    try:
        handle = document.original_file.open("rb")
    except FileNotFoundError:
        raise Http404()
    name = PurePath(document.original_file.name).name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
