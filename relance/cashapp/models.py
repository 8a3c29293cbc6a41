"""Bank statements and their lines, remembered payer accounts, and each company's matching settings.

A line keeps what the bank said (signed amount, dates, counterparty, references, texts, the raw record) and
what cash application made of it: the customer identified, the payment created from it, the reversal it is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import AMOUNT, Customer, Payment
from relance.orgs.models import BankAccount, Company


class Statement(models.Model):
    """One statement (camt Stmt/Ntfctn/Rpt, MT940 message, CFONB 01…07 block, OFX STMTRS) of one account."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="statements")
    bank_account = models.ForeignKey(BankAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    import_run = models.ForeignKey(
        "ingest.ImportRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=64, unique=True, help_text="Digest of account, id, dates and balances.")
    format = models.CharField(_("format"), max_length=12)
    version = models.CharField(max_length=40, blank=True)
    statement_id = models.CharField(_("statement id"), max_length=140, blank=True)
    account_id = models.CharField(_("account"), max_length=70)
    account_iban = models.CharField("IBAN", max_length=34, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    opening_balance = models.DecimalField(_("opening balance"), null=True, blank=True, **AMOUNT)
    opening_date = models.DateField(null=True, blank=True)
    closing_balance = models.DecimalField(_("closing balance"), null=True, blank=True, **AMOUNT)
    closing_date = models.DateField(null=True, blank=True)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    raw = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-closing_date", "-id"]
        indexes = [models.Index(fields=["company", "closing_date"])]

    def __str__(self) -> str:
        return f"{self.format} {self.account_id} {self.statement_id}"


class LineStatus(models.TextChoices):
    NEW = "new", _("New")
    APPLIED = "applied", _("Applied")
    REVIEW = "review", _("To review")
    UNIDENTIFIED = "unidentified", _("Unidentified")
    REVERSAL = "reversal", _("Return or reversal")
    OUTGOING = "outgoing", _("Outgoing (not receivables)")


class BankLine(models.Model):
    """One booked movement. ``amount`` is signed: positive money in, negative money out."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="bank_lines")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    sequence = models.PositiveIntegerField(help_text="Position in its statement, from 1.")
    dedupe_key = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    booking_date = models.DateField(_("booking date"))
    value_date = models.DateField(_("value date"), null=True, blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=200, blank=True)
    counterparty_iban = models.CharField(_("counterparty IBAN"), max_length=40, blank=True, db_index=True)
    counterparty_bic = models.CharField(_("counterparty BIC"), max_length=15, blank=True)
    counterparty_account = models.CharField(_("counterparty account"), max_length=70, blank=True)
    remittance = models.TextField(_("remittance information"), blank=True)
    creditor_reference = models.CharField(_("creditor reference"), max_length=140, blank=True)
    additional_info = models.TextField(_("additional information"), blank=True)
    end_to_end_id = models.CharField(_("end-to-end id"), max_length=140, blank=True, db_index=True)
    bank_reference = models.CharField(_("bank reference"), max_length=140, blank=True, db_index=True)
    entry_reference = models.CharField(_("entry reference"), max_length=140, blank=True)
    instruction_id = models.CharField(max_length=140, blank=True)
    mandate_id = models.CharField(_("mandate"), max_length=140, blank=True)
    transaction_code = models.CharField(_("transaction code"), max_length=40, blank=True)
    is_reversal = models.BooleanField(_("return or reversal"), default=False)
    return_reason = models.CharField(_("return reason"), max_length=35, blank=True)
    flags = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict)
    # What cash application made of it
    status = models.CharField(_("status"), max_length=12, choices=LineStatus.choices, default=LineStatus.NEW)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_lines", db_index=False
    )
    payment = models.OneToOneField(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="bank_line")
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    reversed_payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="returned_by"
    )
    confidence = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    proposal = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-booking_date", "statement_id", "sequence"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=LineStatus.values), name="cashapp_line_status"),
            models.CheckConstraint(condition=~Q(currency=""), name="cashapp_line_currency"),
        ]
        indexes = [
            models.Index(fields=["company", "status", "booking_date"]),
            models.Index(fields=["customer", "booking_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount} {self.currency} {self.counterparty_name}".strip()

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


class PayerAccount(models.Model):
    """A counterparty IBAN known to belong to a customer: learnt when a collector confirms a match."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    iban = models.CharField("IBAN", max_length=40)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payer_accounts")
    confirmations = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "iban"], name="cashapp_payer_iban_unique")]

    def __str__(self) -> str:
        return f"{self.iban} → {self.customer_id}"


class MatchSettings(models.Model):
    """A company's matching rules and thresholds (JSON checked by cashapp.domain.MatchConfig.from_dict)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="match_settings")
    config = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"match settings of {self.company_id}"
