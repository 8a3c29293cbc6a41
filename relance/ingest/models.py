"""Import runs (what was loaded, from which file, with what result) and saved mapping profiles."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.orgs.models import Company


class MappingProfile(models.Model):
    """A named way to read another layout (see relance.ingest.rows.Profile for the keys)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    definition = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportRun(models.Model):
    """One import of one file: counts, errors, and the file's digest (so a re-run can be recognised)."""

    kind = models.CharField(max_length=20)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64, db_index=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    profile = models.CharField(max_length=60, blank=True)
    mode = models.CharField(max_length=20, default="atomic")  # atomic | partial | preview
    status = models.CharField(max_length=20, default="running")  # running | loaded | partial | refused
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list)  # the first errors, as dicts (file, row, column, value, reason)
    error_count = models.PositiveIntegerField(default=0)
    rejects_file = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} {self.status}"


class EInvoiceCheck(models.Model):
    """What an imported e-invoice said beyond the ledger document: its syntax and profile, the French
    mandatory payment notes it lacks, its factoring mention, its amount due, and the parties as written."""

    document = models.OneToOneField("ledger.Document", on_delete=models.CASCADE, related_name="einvoice_check")
    syntax = models.CharField(max_length=10)  # CII | UBL
    container = models.CharField(max_length=10)  # xml | pdf
    profile = models.CharField(max_length=200, blank=True)  # BT-24
    type_code = models.CharField(max_length=3, blank=True)  # BT-3
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    french = models.BooleanField(default=False, help_text="The French mandatory notes were checked.")
    missing_mentions = models.JSONField(default=list)  # recovery_indemnity | late_penalties | early_payment_discount
    subrogation = models.BooleanField(default=False)
    amount_due = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)  # BT-115
    prepaid_amount = models.DecimalField(max_digits=18, decimal_places=3, default=0)  # BT-113
    due_date_source = models.CharField(max_length=20, blank=True)  # invoice | payment_terms | customer_terms
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)  # name, ids, address as written on the invoice
    warnings = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.syntax} {self.document_id}"


class PaymentAlias(models.Model):
    """An ERP payment recognised as one Relance already booked from the bank: the ERP's reference points at it,
    so re-imports of that reference change nothing and the cash is never counted twice."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=80)
    payment = models.ForeignKey("ledger.Payment", on_delete=models.PROTECT, related_name="aliases")
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "reference"], name="ingest_payment_alias_unique"),
            models.UniqueConstraint(fields=["payment"], name="ingest_payment_alias_one_per_payment"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} = payment {self.payment_id}"
