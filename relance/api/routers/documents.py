"""Invoices and credit notes: ``GET /documents`` and ``GET /documents/{document_id}``."""

from dataclasses import replace

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router
from ninja.pagination import paginate

from relance.api import problems
from relance.api.auth import actor
from relance.api.pagination import Pagination
from relance.api.schemas import DocumentDetailOut, DocumentOut, DocumentQuery
from relance.core import clock
from relance.ledger import selectors
from relance.ledger.models import Document

from ._common import reject_unknown_params, stable

router = Router(tags=["documents"])


@router.get(
    "/documents",
    response={200: list[DocumentOut], **problems.responses()},
    summary="List documents",
    description="Invoices and credit notes of the customers the caller may see, filtered, ordered by id.",
)
@paginate(Pagination)
def list_documents(request: HttpRequest, filters: Query[DocumentQuery]) -> QuerySet[Document]:
    reject_unknown_params(request, DocumentQuery)
    user = actor(request)
    wanted = filters.to_filters()
    if filters.overdue:
        return stable(selectors.documents(user, replace(wanted, overdue=True), as_of=clock.today()))
    documents = selectors.documents(user, wanted)
    if filters.overdue is False:
        overdue = selectors.documents(user, selectors.DocumentFilters(overdue=True), as_of=clock.today())
        documents = documents.exclude(pk__in=overdue.values("pk"))
    return stable(documents)


@router.get(
    "/documents/{document_id}",
    response={200: DocumentDetailOut, **problems.responses(404)},
    summary="Get a document",
    description="One invoice or credit note with its allocations. "
    "An id the caller may not see answers 404, as a missing one does.",
)
def get_document(request: HttpRequest, document_id: int) -> Document:
    user = actor(request)
    document = selectors.document(user, document_id)
    allocations = selectors.allocations(user).filter(Q(target_id=document.pk) | Q(credit_note_id=document.pk))
    document.visible_allocations = list(allocations.order_by("date", "pk"))  # type: ignore[attr-defined]
    return document
