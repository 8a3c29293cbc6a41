"""Files in and out from the pages: exports of the user's scope, and imports with a preview before committing."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from relance.analytics import exports
from relance.core import clock, errors, scope
from relance.ingest import services as ingest
from relance.ingest.einvoice import import_einvoice
from relance.ingest.fec import import_fec
from relance.ingest.models import ImportRun, MappingProfile
from relance.ingest.rows import RowError
from relance.orgs.models import Company

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
UPLOAD_DIR = "uploads"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


@login_required
def export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in exports.EXPORTS or fmt not in exports.FORMATS:
        raise Http404()
    today = clock.today()
    body = exports.render(exports.EXPORTS[kind](request.user, as_of=today), fmt)
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="relance-{kind}-{today.isoformat()}.{fmt}"'
    return response


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What the file holds"),
        choices=[
            ("customers", _("Customers")),
            ("documents", _("Invoices and credit notes")),
            ("payments", _("Payments")),
            ("fec", _("FEC (French accounting export)")),
            ("einvoice", _("E-invoice (Factur-X, CII or UBL)")),
        ],
    )
    company = forms.ChoiceField(label=_("Company"), required=False)
    profile = forms.ChoiceField(label=_("Mapping profile"), required=False)
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        companies = scope.restrict(user, Company.objects.all()).order_by("code")
        group_wide = scope.scope_of(user).level == scope.GROUP
        self.fields["company"].choices = ([("", _("As in the file"))] if group_wide else []) + [
            (c.code, f"{c.code} · {c.name}") for c in companies
        ]
        self.fields["company"].required = not group_wide
        self.fields["profile"].choices = [("", _("Canonical layout"))] + [
            (p.name, p.name) for p in MappingProfile.objects.all()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == "fec" and not data.get("company"):
            self.add_error("company", _("A FEC belongs to one company: choose it."))
        return data

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 200 MB: use `relance import` instead."))
        return upload


def _upload_path(token: str) -> Path:
    if not token.isalnum():
        raise Http404()
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR / token


@login_required
def import_file(request: HttpRequest) -> HttpResponse:
    """Step 1: upload and preview (first rows, every error); step 2: confirm, which imports the same file."""
    if not scope.can(request.user, "import"):
        raise PermissionDenied
    context: dict[str, Any] = {"recent": ImportRun.objects.filter(actor=request.user)[:10]}
    if request.method == "POST" and request.POST.get("token"):
        return _confirm(request, context)
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        token = secrets.token_hex(16)
        folder = _upload_path(token)
        folder.mkdir(parents=True, exist_ok=True)
        upload = form.cleaned_data["file"]
        target = folder / Path(upload.name).name
        with target.open("wb") as fh:
            for chunk in upload.chunks():
                fh.write(chunk)
        params = {k: form.cleaned_data[k] for k in ("kind", "company", "profile")}
        try:
            result = _run(request.user, params, target, upload.name, preview=True)
        except errors.RelanceError as exc:
            form.add_error("file", str(exc))
        else:
            context.update(
                result=result,
                token=token,
                params=params,
                file_name=upload.name,
                columns=list(result.preview[0]) if result.preview else [],
            )
            request.session[f"import-{token}"] = {**params, "name": upload.name}
    context["form"] = form
    return render(request, "web/import.html", context)


@dataclass
class Outcome:
    """What the page shows of an import of any kind: counts, errors, warnings, first rows."""

    status: str
    counts: dict[str, Any]
    errors: list[Any] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    preview: list[dict[str, str]] = field(default_factory=list)


def _run(
    user: Any, params: dict[str, Any], path: Path, name: str, *, preview: bool = False, partial: bool = False
) -> Any:
    """One import of the uploaded file with the service of its kind; FEC and e-invoices have their own."""
    kind = params["kind"]
    if kind == "fec":
        r = import_fec(
            actor=user, path=path, company=params["company"], partial=partial, preview=preview, display_name=name
        )
        docs = r.counts.get("documents") or {}
        counts = {
            "read": r.counts.get("lines", 0),
            "created": docs.get("created", 0),
            "updated": docs.get("updated", 0),
            "unchanged": docs.get("unchanged", 0),
            "rejected": r.counts.get("rejected_entries", 0),
        }
        return Outcome(r.status, counts, r.errors, len(r.errors), r.warnings)
    if kind == "einvoice":
        r = import_einvoice(actor=user, path=path, company=params["company"], display_name=name, preview=preview)
        created = r.status == "created"
        counts = {
            "read": 1,
            "created": int(created),
            "updated": int(r.status == "updated"),
            "unchanged": int(r.status == "unchanged"),
            "rejected": int(r.status == "refused"),
        }
        rows = (
            []
            if r.status == "refused"
            else [
                {
                    _("Number"): r.number,
                    _("Type"): r.document_type,
                    _("Customer"): r.customer_ref,
                    _("Currency"): r.currency,
                    _("Amount"): str(r.amount),
                    _("Issue date"): str(r.issue_date),
                    _("Due date"): str(r.due_date),
                }
            ]
        )
        errs = [RowError(name, 0, "", "", r.reason)] if r.reason else []
        return Outcome(
            "refused" if r.status == "refused" else "preview" if preview else "loaded",
            counts,
            errs,
            len(errs),
            r.flags,
            rows,
        )
    return ingest.import_file(
        actor=user,
        kind=kind,
        path=path,
        company=params["company"],
        profile=params["profile"] or None,
        preview=preview,
        partial=partial,
        display_name=name,
    )


def _confirm(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    token = request.POST["token"]
    params = request.session.pop(f"import-{token}", None)
    folder = _upload_path(token)
    files = list(folder.iterdir()) if params and folder.exists() else []
    if not files:
        messages.error(request, _("This upload has expired: upload the file again."))
        return redirect("web:import")
    partial = request.POST.get("partial") == "on"
    try:
        result = _run(request.user, params, files[0], params["name"], partial=partial)
    except errors.RelanceError as exc:
        messages.error(request, str(exc))
        return redirect("web:import")
    finally:
        for f in folder.iterdir():
            if not f.name.endswith(".rejects.csv"):
                f.unlink()
    c = result.counts
    text = _(
        "%(file)s: %(status)s. %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
        "%(rejected)s rejected."
    ) % {"file": params["name"], "status": result.status, **c}
    (messages.error if result.status == "refused" else messages.success)(request, text)
    return redirect("web:import")
