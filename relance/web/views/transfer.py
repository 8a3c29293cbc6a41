"""Files in and out from the pages: exports of the user's scope, and imports with a preview before committing."""

from __future__ import annotations

import secrets
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
from relance.ingest.models import ImportRun, MappingProfile
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
    kind = forms.ChoiceField(label=_("What the file holds"), choices=[
        ("customers", _("Customers")), ("documents", _("Invoices and credit notes")), ("payments", _("Payments"))])
    company = forms.ChoiceField(label=_("Company"), required=False)
    profile = forms.ChoiceField(label=_("Mapping profile"), required=False)
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        companies = scope.restrict(user, Company.objects.all()).order_by("code")
        group_wide = scope.scope_of(user).level == scope.GROUP
        self.fields["company"].choices = ([("", _("As in the file"))] if group_wide else []) + [
            (c.code, f"{c.code} · {c.name}") for c in companies]
        self.fields["company"].required = not group_wide
        self.fields["profile"].choices = [("", _("Canonical layout"))] + [
            (p.name, p.name) for p in MappingProfile.objects.all()]

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
            result = ingest.import_file(actor=request.user, kind=params["kind"], path=target,
                                        company=params["company"], profile=params["profile"] or None,
                                        preview=True, display_name=upload.name)
        except errors.RelanceError as exc:
            form.add_error("file", str(exc))
        else:
            context.update(result=result, token=token, params=params, file_name=upload.name,
                           columns=list(result.preview[0]) if result.preview else [])
            request.session[f"import-{token}"] = {**params, "name": upload.name}
    context["form"] = form
    return render(request, "web/import.html", context)


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
        result = ingest.import_file(actor=request.user, kind=params["kind"], path=files[0], company=params["company"],
                                    profile=params["profile"] or None, partial=partial, display_name=params["name"])
    except errors.RelanceError as exc:
        messages.error(request, str(exc))
        return redirect("web:import")
    finally:
        for f in folder.iterdir():
            if not f.name.endswith(".rejects.csv"):
                f.unlink()
    c = result.counts
    text = _("%(file)s: %(status)s. %(created)s created, %(updated)s updated, %(unchanged)s unchanged, "
             "%(rejected)s rejected.") % {"file": params["name"], "status": result.status, **c}
    (messages.error if result.status == "refused" else messages.success)(request, text)
    return redirect("web:import")
