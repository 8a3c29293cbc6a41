"""The e-invoicing lifecycle of a document: ``GET /documents/{document_id}/lifecycle`` (JSON) and
``GET /documents/{document_id}/lifecycle/cdar`` (the UN/CEFACT CDAR message of its latest status)."""

import datetime as dt

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from relance.api import problems
from relance.api.auth import actor
from relance.ingest import lifecycle
from relance.ledger import selectors

router = Router(tags=["documents"])

NO_STATUS = "Document {number} has no lifecycle status yet: status 212 (Encaissée) comes once payments settle it."


class LifecycleStatusOut(Schema):
    code: str
    label: str
    date: dt.date
    amount: str
    currency: str


class LifecycleOut(Schema):
    document: str
    document_id: int
    statuses: list[LifecycleStatusOut]


@router.get(
    "/documents/{document_id}/lifecycle",
    response={200: LifecycleOut, **problems.responses(404)},
    summary="Get a document's e-invoicing lifecycle",
    description="The French e-invoicing lifecycle statuses Relance can tell for the document: 212 (Encaissée) "
    "with the date of the last payment and the amount cashed, once payments settle the invoice. "
    "An id the caller may not see answers 404, as a missing one does.",
)
def get_document_lifecycle(request: HttpRequest, document_id: int) -> dict:
    document = selectors.document(actor(request), document_id)
    statuses = lifecycle.document_statuses(document)
    return {"document": document.number, "document_id": document.pk, "statuses": [s.as_dict() for s in statuses]}


@router.get(
    "/documents/{document_id}/lifecycle/cdar",
    response={200: None, **problems.responses(404)},
    summary="Get a document's lifecycle status as a CDAR message",
    description="The latest lifecycle status as a UN/CEFACT CrossDomainAcknowledgementAndResponse XML message "
    "(French CDV profile). 404 while the document has no status, or is outside the caller's scope.",
)
def get_document_lifecycle_cdar(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.document(actor(request), document_id)
    statuses = lifecycle.document_statuses(document)
    if not statuses:
        raise problems.Problem(404, NO_STATUS.format(number=document.number))
    status = statuses[-1]
    response = HttpResponse(lifecycle.document_cdar(document, status), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{lifecycle.cdar_file_name(document, status)}"'
    return response
