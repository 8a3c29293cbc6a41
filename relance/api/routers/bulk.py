"""Bulk upserts: ``POST /customers/bulk``, ``/documents/bulk`` and ``/payments/bulk``.

An item is read exactly as a row of an import file: it becomes a :class:`relance.ingest.rows.Row`
(its number is the item's index), is checked by the same ``parse_*`` function and written by the
same loader (relance.ingest.loaders), so the API and the files accept and refuse the same things.

* All or nothing by default: one transaction; one bad item and nothing is written (422, every bad
  item listed). With ``?partial=true`` the valid items are written and the others reported (200).
* Scope: the caller's role must allow ``write_ledger``; a company or customer outside the caller's
  scope is refused per item exactly as an unknown one; a document or payment number already used
  outside the scope cannot be overwritten; a row written must stay within the caller's scope.
* ``Idempotency-Key``: see relance.channels.idempotency.
* Webhooks (relance.channels): ``document.created``, ``document.updated``, ``payment.received`` and
  ``payment.allocated`` are emitted in the transaction, for what was written.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Header, Query, Router

from relance.api import problems
from relance.api.auth import actor
from relance.api.problems import FieldError, Problem
from relance.api.schemas import UNKNOWN_PARAMETER
from relance.api.schemas_bulk import (
    AMOUNT_FIELDS,
    FIELDS,
    MAX_BODY_BYTES,
    MAX_ITEMS,
    MAX_LENGTHS,
    BulkResultOut,
    request_body,
)
from relance.channels import idempotency, webhooks
from relance.channels import services as channels
from relance.channels.models import IdempotencyKey
from relance.core import audit, clock, scope
from relance.ingest import loaders
from relance.ingest.models import ImportRun
from relance.ingest.rows import PARSERS, Profile, Row, RowError
from relance.ledger.models import Allocation, Customer, Document, Payment
from relance.orgs.models import Company

router = Router(tags=["bulk"])

SOURCE = "api"
RUN_FILE = "API"  # the ImportRun of a request is named "API <path>"
CHUNK = 2000  # rows per loader call and per IN (...) list, as the file imports do

# Problem codes of these endpoints (never rename one)
INVALID_ITEMS = "invalid_items"
IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
CONTENT_TOO_LARGE = "content_too_large"

# Messages (rule 10: constants that tests import)
DETAIL_INVALID_ITEMS = (
    "{bad} of {total} items are invalid: nothing was written. Fix them and send the request again, "
    "or send ?partial=true to write the valid items."
)
DETAIL_NOT_JSON = "The body is not valid JSON: {error}."
DETAIL_TOO_LARGE = "The body is larger than {limit} MB: send at most {items:,} items per request."
DETAIL_KEY_REUSED = (
    "This Idempotency-Key was already used for a different request in the last 24 hours: "
    "use a new key for a new request."
)
DETAIL_KEY_IN_USE = "A request with this Idempotency-Key is still running: retry in a moment."
INVALID_KEY = "An Idempotency-Key is 1 to 255 printable ASCII characters without spaces."
BODY_NOT_OBJECT = 'The body must be a JSON object: {"items": [...]}.'
ITEMS_NOT_LIST = "items must be a list of objects."
TOO_MANY_ITEMS = "At most {max:,} items per request (got {count:,}): split the request."
UNKNOWN_BODY_FIELD = "Unknown field; the body has one field, items."
ITEM_NOT_OBJECT = "An item must be a JSON object with the fields: {fields}."
UNKNOWN_FIELD = "Unknown field; the fields are: {fields}."
FLOAT_AMOUNT = (
    'Amounts are sent as decimal strings, such as "1200.50": a JSON number with a fraction ({value}) may not be exact.'
)
NOT_A_STRING = "Must be a string (or a number for amounts and payment_terms_days), not {kind}."
TOO_LONG = "Longer than {max} characters."
DUPLICATE_ITEM = "appears twice in the request (first at item {first})"
OUT_OF_SCOPE_CUSTOMER = "customer {reference} of company {company} exists but is not within your scope"
OUT_OF_SCOPE_DOCUMENT = "document {number} of company {company} exists but is not within your scope"
OUT_OF_SCOPE_PAYMENT = "payment {reference} of company {company} exists but is not within your scope"
LEAVES_SCOPE = (
    "would not be within your scope once written (as a collector or sales rep, give your own e-mail "
    "in collector_email or sales_rep_email)"
)
PAYMENT_LEAVES_SCOPE = "would not be within your scope once written: give the customer_ref of one of your customers"
GROUP_REJECTED = "not written: item {index} of the same payment {reference} was rejected"
# the loaders' own words for what is unknown: a row outside the scope gets exactly these
UNKNOWN_CUSTOMER = "unknown customer in company {company}"
UNKNOWN_INVOICE = "unknown invoice"
# file words in the loaders' messages, and what they mean for a request
_WORDING = (
    ("in the file", "in the request"),
    ("first at row ", "first at item "),
    ("its first row ", "its first item "),
    ("further down the file", "further down the request"),
    (" (or give --company)", ""),
    (" (create it with `relance company add`)", ""),
    (" (import customers first)", " (create it first: POST /api/v1/customers/bulk)"),
)

IDEMPOTENCY_DESCRIPTION = (
    "Any unique string (a UUID): a retry with the same key and the same body gets the first answer again "
    "without running twice (header Idempotent-Replayed: true); the same key with another body is refused "
    "(422 idempotency_key_reused). Keys are kept 24 hours, per caller."
)
PARTIAL_DESCRIPTION = "false (default): all or nothing. true: write the valid items, report the others."
DESCRIPTION = """Creates or updates up to {max:,} {kind} in one call, by {key}. The items carry the columns of the
{kind} import file, checked the same way. All or nothing unless `?partial=true`: a refusal is a 422
listing every bad item (`errors[].loc` = `["body", "items", <index>, <field>]`). Needs a role that writes the
ledger; companies and customers outside the caller's scope are refused as unknown ones. {events}"""


class _FloatText(str):
    """A JSON number with a fraction or exponent, kept as its text (``json.loads(parse_float=...)``)."""


class _Refused(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__()
        self.errors = errors


class _Rollback(Exception):
    pass


@dataclass
class _Item:
    index: int
    status: str = ""
    id: int | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass
class _Load:
    """One request being written: the caller, the loaders' context, one outcome per item, events to emit."""

    user: Any
    kind: str
    items: list[_Item]
    ctx: loaders.Context = field(init=False)
    events: list[channels.Emitted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ctx = loaders.Context(actor=self.user, file=RUN_FILE, source=SOURCE, started_at=clock.now())
        self.sees_everything = scope.scope_of(self.user).level == scope.GROUP
        self.profile = Profile(kind=self.kind)  # the canonical layout, as a file without a mapping profile
        self.wanted = _subscribed_types()

    def loc(self, index: int, column: str = "") -> tuple[str | int, ...]:
        return ("body", "items", index, column) if column else ("body", "items", index)

    def fail(self, index: int, column: str, message: str, code: str = "invalid") -> None:
        self.items[index].errors.append(FieldError(self.loc(index, column), message, code))

    def row_errors(self, problems_: Iterable[RowError]) -> None:
        for p in problems_:
            self.fail(
                p.row, p.column, _message(p.reason, p.value), "required" if p.reason == "is required" else "invalid"
            )

    def visible(self, queryset: QuerySet) -> QuerySet:
        return queryset if self.sees_everything else scope.restrict(self.user, queryset)

    def companies(self, codes: set[str]) -> None:
        """Companies outside the scope are cached as unknown: the loaders then refuse them as such."""
        found = {c.code: c for c in self.visible(Company.objects.filter(code__in=codes))}
        self.ctx.companies.update({code: found.get(code) for code in codes})

    def counted(self) -> dict[str, int]:
        return dict(self.ctx.counts)

    def status_since(self, before: dict[str, int]) -> str:
        for status in ("created", "updated", "unchanged"):
            if self.ctx.counts[status] > before.get(status, 0):
                return status
        return ""

    def restore(self, before: dict[str, int]) -> None:
        self.ctx.counts.clear()
        self.ctx.counts.update(before)

    def emit(self, event_type: str, data: dict[str, Any], company_id: int) -> None:
        self.events.append((event_type, data, company_id))


def _subscribed_types() -> set[str]:
    from relance.channels.models import WebhookSubscription

    return {
        t
        for types in WebhookSubscription.objects.filter(active=True).values_list("event_types", flat=True)
        for t in types
    }


def _message(reason: str, value: str) -> str:
    for old, new in _WORDING:
        reason = reason.replace(old, new)
    return f"{reason} (got {value!r})" if value and value not in reason else reason


def _chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _by_company(pairs: Iterable[tuple[int, str]]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for company_id, value in pairs:
        out[company_id].add(value)
    return out


Pair = tuple[int, str]


def _lookup(load: _Load, model: type[Model], key: str, pairs: set[Pair]) -> tuple[dict[Pair, int], set[Pair]]:
    """Existing rows of ``model`` by (company id, ``key``): {pair: pk}, and the pairs the caller may see."""
    existing: dict[Pair, int] = {}
    visible: set[Pair] = set()
    for company_id, values in _by_company(pairs).items():
        for chunk in _chunks(values):
            # no ordering: the model's default order would make SQLite walk the company's rows instead of the index
            rows = model._default_manager.filter(company_id=company_id, **{f"{key}__in": chunk}).order_by()
            existing.update({(company_id, v): pk for v, pk in rows.values_list(key, "pk")})
            if load.sees_everything:
                continue
            visible.update((company_id, v) for v in load.visible(rows).values_list(key, flat=True))
    if load.sees_everything:
        visible = set(existing)
    return existing, visible


# --- customers ------------------------------------------------------------------------------------


def _load_customers(load: _Load, records: list[Any]) -> None:
    load.companies({r.company for r in records})
    ctx = load.ctx
    pairs = {(ctx.companies[r.company].pk, r.reference) for r in records if ctx.companies[r.company]}
    existing, visible = _lookup(load, Customer, "reference", pairs)
    first: dict[tuple[int, str], int] = {}
    for rec in records:
        company = ctx.companies[rec.company]
        if company is not None:
            key = (company.pk, rec.reference)
            if key in first:
                load.fail(rec.row, "customer_ref", _message(DUPLICATE_ITEM.format(first=first[key]), rec.reference))
                continue
            first[key] = rec.row
            if key in existing and key not in visible:
                message = OUT_OF_SCOPE_CUSTOMER.format(reference=rec.reference, company=company.code)
                load.fail(rec.row, "customer_ref", message, "forbidden")
                continue
        before = load.counted()
        found: list[RowError] = []
        try:
            with transaction.atomic():
                found = loaders.load_customers(ctx, [rec])
                if found:
                    raise _Refused([])
                customer = Customer.objects.get(company=company, reference=rec.reference)
                if not load.sees_everything and not load.visible(Customer.objects.filter(pk=customer.pk)).exists():
                    raise _Refused([FieldError(load.loc(rec.row, "customer_ref"), LEAVES_SCOPE, "forbidden")])
        except _Refused as exc:
            load.restore(before)
            load.row_errors(found)
            load.items[rec.row].errors.extend(exc.errors)
            continue
        load.items[rec.row].status, load.items[rec.row].id = load.status_since(before), customer.pk


# --- documents ------------------------------------------------------------------------------------


def _load_documents(load: _Load, records: list[Any]) -> None:
    load.companies({r.company for r in records})
    ctx = load.ctx
    valid = [(r, ctx.companies[r.company]) for r in records if ctx.companies[r.company] is not None]
    customers, visible_customers = _lookup(load, Customer, "reference", {(c.pk, r.customer_ref) for r, c in valid})
    # customers outside the scope are cached as unknown: the loader refuses them in its own words
    ctx.customer_ids.update({pair: pk if pair in visible_customers else None for pair, pk in customers.items()})
    existing, visible = _lookup(load, Document, "number", {(c.pk, r.number) for r, c in valid})
    first: dict[tuple[str, str], int] = {}
    keep = []
    for rec in records:
        company = ctx.companies[rec.company]
        key = (rec.company, rec.number)
        if key in first:
            load.fail(rec.row, "number", _message(DUPLICATE_ITEM.format(first=first[key]), rec.number))
            continue
        first[key] = rec.row
        if company is not None and (company.pk, rec.number) in existing and (company.pk, rec.number) not in visible:
            load.fail(rec.row, "number", OUT_OF_SCOPE_DOCUMENT.format(number=rec.number, company=company.code))
            continue
        keep.append(rec)
    for chunk in _chunks(keep):
        load.row_errors(loaders.load_documents(ctx, chunk))
    written = [r for r in keep if not load.items[r.row].errors]
    now_ids: dict[tuple[int, str], tuple[int, Any]] = {}
    for company_id, numbers in _by_company((ctx.companies[r.company].pk, r.number) for r in written).items():
        for chunk in _chunks(numbers):
            rows = Document.objects.filter(company_id=company_id, number__in=chunk).order_by()
            now_ids.update({(company_id, n): (pk, at) for n, pk, at in rows.values_list("number", "pk", "updated_at")})
    changed: dict[int, str] = {}
    for rec in written:
        key = (ctx.companies[rec.company].pk, rec.number)
        pk, updated_at = now_ids[key]
        if key not in existing:
            status = "created"
        else:
            status = "updated" if updated_at >= ctx.started_at else "unchanged"
        load.items[rec.row].status, load.items[rec.row].id = status, pk
        if status != "unchanged":
            changed[pk] = webhooks.DOCUMENT_CREATED if status == "created" else webhooks.DOCUMENT_UPDATED
    if load.wanted & {webhooks.DOCUMENT_CREATED, webhooks.DOCUMENT_UPDATED}:
        for chunk in _chunks(changed):
            for doc in Document.objects.filter(pk__in=chunk).select_related("company", "customer").order_by("pk"):
                load.emit(changed[doc.pk], webhooks.document_data(doc), doc.company_id)


# --- payments -------------------------------------------------------------------------------------


def _load_payments(load: _Load, records: list[Any]) -> None:
    load.companies({r.company for r in records})
    ctx = load.ctx
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for rec in records:
        groups[(rec.company, rec.reference)].append(rec)
    valid = [(r, ctx.companies[r.company]) for r in records if ctx.companies[r.company] is not None]
    _, visible_customers = _lookup(load, Customer, "reference", {(c.pk, r.customer_ref) for r, c in valid})
    _, visible_invoices = _lookup(load, Document, "number", {(c.pk, r.invoice_number) for r, c in valid})
    existing, visible = _lookup(load, Payment, "reference", {(c.pk, r.reference) for r, c in valid})
    written: list[int] = []
    for (code, reference), group in groups.items():
        head, company = group[0], ctx.companies[code]
        if company is not None:
            if head.customer_ref and (company.pk, head.customer_ref) not in visible_customers:
                load.fail(head.row, "customer_ref", _message(UNKNOWN_CUSTOMER.format(company=code), head.customer_ref))
            for rec in group:
                if rec.invoice_number and (company.pk, rec.invoice_number) not in visible_invoices:
                    load.fail(rec.row, "invoice_number", _message(UNKNOWN_INVOICE, rec.invoice_number))
            if (company.pk, reference) in existing and (company.pk, reference) not in visible:
                load.fail(head.row, "reference", OUT_OF_SCOPE_PAYMENT.format(reference=reference, company=code))
        if not any(load.items[r.row].errors for r in group):
            before = load.counted()
            found: list[RowError] = []
            try:
                with transaction.atomic():
                    found = loaders.load_payments(ctx, group)
                    status = load.status_since(before)
                    payment = Payment.objects.filter(company=company, reference=reference).first() if status else None
                    if payment is not None and not load.sees_everything:
                        if not load.visible(Payment.objects.filter(pk=payment.pk)).exists():
                            error = FieldError(load.loc(head.row, "customer_ref"), PAYMENT_LEAVES_SCOPE, "forbidden")
                            raise _Refused([error])
            except _Refused as exc:
                load.restore(before)
                load.items[head.row].errors.extend(exc.errors)
                status, payment = "", None
            load.row_errors(found)
            if payment is not None:
                written.append(payment.pk)
                for rec in group:
                    if not load.items[rec.row].errors:
                        load.items[rec.row].status, load.items[rec.row].id = status, payment.pk
                if status == "created" and webhooks.PAYMENT_RECEIVED in load.wanted:
                    load.emit(webhooks.PAYMENT_RECEIVED, webhooks.payment_data(payment), payment.company_id)
        bad = next((r.row for r in group if load.items[r.row].errors), None)
        for rec in group:
            if bad is not None and not load.items[rec.row].errors and not load.items[rec.row].status:
                load.fail(rec.row, "reference", GROUP_REJECTED.format(index=bad, reference=reference))
    if webhooks.PAYMENT_ALLOCATED in load.wanted:
        for chunk in _chunks(written):
            allocations = Allocation.objects.filter(
                payment_id__in=chunk, reverses__isnull=True, created_at__gte=ctx.started_at
            ).select_related("company", "customer", "payment", "target")
            for allocation in allocations.order_by("pk"):
                load.emit(webhooks.PAYMENT_ALLOCATED, webhooks.allocation_data(allocation), allocation.company_id)


LOADERS = {"customers": _load_customers, "documents": _load_documents, "payments": _load_payments}


# --- reading the request --------------------------------------------------------------------------


def _read_body(request: HttpRequest) -> bytes:
    """The raw body, with this endpoint's size limit instead of DATA_UPLOAD_MAX_MEMORY_SIZE."""
    too_large = Problem(
        413, DETAIL_TOO_LARGE.format(limit=MAX_BODY_BYTES // (1024 * 1024), items=MAX_ITEMS), CONTENT_TOO_LARGE
    )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise too_large
    raw = request.read(MAX_BODY_BYTES + 1)  # request.body would apply Django's global 2.5 MB limit
    if len(raw) > MAX_BODY_BYTES:
        raise too_large
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _parse(raw: bytes) -> list[Any]:
    try:
        body = json.loads(raw or b"null", parse_float=_FloatText, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, DETAIL_NOT_JSON.format(error=exc))
    if not isinstance(body, dict):
        raise problems.invalid_request([FieldError(("body",), BODY_NOT_OBJECT, "type_error")])
    unknown = [FieldError(("body", str(k)), UNKNOWN_BODY_FIELD, "unknown_field") for k in body if k != "items"]
    items = body.get("items")
    if not isinstance(items, list):
        raise problems.invalid_request([*unknown, FieldError(("body", "items"), ITEMS_NOT_LIST, "type_error")])
    if len(items) > MAX_ITEMS:
        error = FieldError(("body", "items"), TOO_MANY_ITEMS.format(max=MAX_ITEMS, count=len(items)), "too_long")
        raise problems.invalid_request([*unknown, error])
    if unknown:
        raise problems.invalid_request(unknown)
    return items


def _row(load: _Load, index: int, item: Any) -> Row | None:
    """An item as a file row (text values), after the checks only JSON needs (types, floats, lengths)."""
    fields = FIELDS[load.kind]
    if type(item) is not dict:
        load.fail(index, "", ITEM_NOT_OBJECT.format(fields=", ".join(fields)), "type_error")
        return None
    limits = MAX_LENGTHS[load.kind]
    raw: dict[str, str] = {}
    for name, value in item.items():
        kind = type(value)  # exact types: json.loads makes no subclasses but ours, and bool is not an int here
        if name not in limits:
            load.fail(index, str(name), UNKNOWN_FIELD.format(fields=", ".join(fields)), "unknown_field")
            continue
        if value is None:  # null is an empty cell: a present but empty column clears an optional field
            raw[name] = ""
            continue
        if kind is str or kind is int:
            text = value if kind is str else str(value)
        elif kind is _FloatText and name not in AMOUNT_FIELDS:
            text = str(value)
        elif kind is _FloatText:
            load.fail(index, name, FLOAT_AMOUNT.format(value=value), "float_amount")
            continue
        else:
            load.fail(index, name, NOT_A_STRING.format(kind=kind.__name__), "type_error")
            continue
        if limits[name] and len(text.strip()) > limits[name]:
            load.fail(index, name, TOO_LONG.format(max=limits[name]), "too_long")
            continue
        raw[name] = text
    return Row(file=RUN_FILE, number=index, raw=raw, profile=load.profile)


# --- the endpoint ---------------------------------------------------------------------------------


def _body_of(load: _Load) -> dict[str, Any]:
    results = []
    counts = {"received": len(load.items), "created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for item in load.items:
        status = "rejected" if item.errors or not item.status else item.status
        counts[status] += 1
        results.append(
            {
                "index": item.index,
                "status": status,
                "id": None if status == "rejected" else item.id,
                "errors": [e.as_json() for e in item.errors],
            }
        )
    return {"status": "partial" if counts["rejected"] else "loaded", "counts": counts, "results": results}


def _records(load: _Load, items: list[Any]) -> list[Any]:
    """Each item as a file row through the import's parse function; the valid ones as records."""
    records = []
    for index, item in enumerate(items):
        row = _row(load, index, item)
        if row is None:
            continue
        record = PARSERS[load.kind](row)
        bad = {e.loc[3] for e in load.items[index].errors if len(e.loc) > 3}
        load.row_errors(e for e in row.errors if e.column not in bad)  # one message per field
        if record is not None and not load.items[index].errors:
            records.append(record)
    return records


def _close_run(run: ImportRun, load: _Load, status: str, counts: dict[str, int]) -> None:
    """The ImportRun of the request, as a file import has one (the web's import history lists both)."""
    bad = [(i.index, e) for i in load.items for e in i.errors]
    run.status, run.finished_at = status, clock.now()
    run.counts = {"read": counts["received"], **{k: v for k, v in counts.items() if k != "received"}}
    run.errors = [
        {"file": RUN_FILE, "row": index, "column": e.field.rpartition(".")[2], "value": "", "reason": e.message}
        for index, e in bad[:200]
    ]
    run.error_count = len(bad)
    run.save(update_fields=["status", "finished_at", "counts", "errors", "error_count"])


def _write(request: HttpRequest, kind: str, raw: bytes, partial: bool, key: IdempotencyKey | None) -> HttpResponse:
    items = _parse(raw)
    user = actor(request)
    load = _Load(user, kind, [_Item(i) for i in range(len(items))])
    records = _records(load, items)
    run = ImportRun.objects.create(
        kind=kind,
        file_name=f"{RUN_FILE} {request.path}"[:300],
        sha256=hashlib.sha256(raw).hexdigest(),
        mode="partial" if partial else "atomic",
        started_at=load.ctx.started_at,
        actor=user,
        actor_label=audit.actor_label(user),
    )
    try:
        with transaction.atomic():
            LOADERS[kind](load, records)
            result = _body_of(load)
            counts = result["counts"]
            if counts["rejected"] and not partial:
                raise _Rollback()
            channels.emit_many(load.events)
            _close_run(run, load, result["status"], counts)
            if counts["created"] or counts["updated"]:
                audit.record(actor=user, action=f"import.{kind}", obj=run, changes=run.counts, message=RUN_FILE)
            body = json.dumps(result, ensure_ascii=False)
            if key is not None:
                idempotency.finish(key, status=200, content_type="application/json", body=body)
    except _Rollback:
        refused = {**counts, "created": 0, "updated": 0, "unchanged": 0}
        _close_run(run, load, "refused", refused)
        errors = [e for i in load.items for e in i.errors]
        detail = DETAIL_INVALID_ITEMS.format(bad=counts["rejected"], total=len(items))
        response = problems.render(request, Problem(422, detail, INVALID_ITEMS, errors))
        if key is not None:
            idempotency.finish(key, status=422, content_type=response["Content-Type"], body=response.content.decode())
        return response
    return HttpResponse(body, content_type="application/json")


def _bulk(request: HttpRequest, kind: str, partial: bool, key: str | None) -> HttpResponse:
    user = actor(request)
    scope.require(user, "write_ledger")
    unknown = sorted(set(request.GET) - {"partial"})
    if unknown:
        message = UNKNOWN_PARAMETER.format(accepted="partial")
        raise problems.invalid_request([FieldError(("query", n), message, "unknown_parameter") for n in unknown])
    raw = _read_body(request)
    if key is None:
        return _write(request, kind, raw, partial, None)
    if not idempotency.valid_key(key):
        raise problems.invalid_request([FieldError(("header", "Idempotency-Key"), INVALID_KEY)])
    fingerprint = idempotency.request_hash(request.method or "POST", request.path, f"partial={partial}", raw)
    claim = idempotency.begin(
        user=user, key=key, method=request.method or "POST", path=request.path, fingerprint=fingerprint
    )
    if claim.outcome == idempotency.REPLAY:
        row = claim.row
        response = HttpResponse(row.response_body, status=row.status, content_type=row.content_type)
        response["Idempotent-Replayed"] = "true"
        return response
    if claim.outcome == idempotency.REUSED:
        error = FieldError(("header", "Idempotency-Key"), DETAIL_KEY_REUSED, IDEMPOTENCY_KEY_REUSED)
        raise Problem(422, DETAIL_KEY_REUSED, IDEMPOTENCY_KEY_REUSED, [error])
    if claim.outcome == idempotency.IN_PROGRESS:
        raise Problem(409, DETAIL_KEY_IN_USE, IDEMPOTENCY_KEY_IN_USE, headers={"Retry-After": "2"})
    try:
        return _write(request, kind, raw, partial, claim.row)
    except BaseException:
        idempotency.release(claim.row)  # nothing was stored: a retry runs again
        raise


_RESPONSES = {200: BulkResultOut, **problems.responses(400, 403, 409, 413)}
_KEYS = {"customers": "(company, customer_ref)", "documents": "(company, number)", "payments": "(company, reference)"}
_EVENTS = {
    "customers": "",
    "documents": "Emits the webhooks `document.created` and `document.updated`.",
    "payments": "Emits the webhooks `payment.received` (new payments) and `payment.allocated`.",
}


def _describe(kind: str) -> str:
    return DESCRIPTION.format(max=MAX_ITEMS, kind=kind, key=_KEYS[kind], events=_EVENTS[kind]).strip()


Partial = Query(False, description=PARTIAL_DESCRIPTION)  # type: ignore[type-arg]
Key = Header(None, alias="Idempotency-Key", description=IDEMPOTENCY_DESCRIPTION)  # type: ignore[type-arg]


@router.post(
    "/customers/bulk",
    response=_RESPONSES,
    summary="Create or update customers in bulk",
    description=_describe("customers"),
    openapi_extra=request_body("customers"),
)
def bulk_customers(request: HttpRequest, partial: bool = Partial, idempotency_key: str | None = Key) -> HttpResponse:
    return _bulk(request, "customers", partial, idempotency_key)


@router.post(
    "/documents/bulk",
    response=_RESPONSES,
    summary="Create or update invoices and credit notes in bulk",
    description=_describe("documents"),
    openapi_extra=request_body("documents"),
)
def bulk_documents(request: HttpRequest, partial: bool = Partial, idempotency_key: str | None = Key) -> HttpResponse:
    return _bulk(request, "documents", partial, idempotency_key)


@router.post(
    "/payments/bulk",
    response=_RESPONSES,
    summary="Create or update payments (and their allocations) in bulk",
    description=_describe("payments"),
    openapi_extra=request_body("payments"),
)
def bulk_payments(request: HttpRequest, partial: bool = Partial, idempotency_key: str | None = Key) -> HttpResponse:
    return _bulk(request, "payments", partial, idempotency_key)
