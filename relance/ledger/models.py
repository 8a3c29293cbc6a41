"""The receivables ledger: counterparties, customer accounts, documents, payments, allocations, rates.

Amounts are DecimalFields beside a ``currency`` column, positive, with check constraints;
the document type gives the sign. ``open_amount`` (documents) and ``unallocated_amount``
(payments) are derived from allocations and maintained by ledger.services in the same
transaction; ``ledger.selectors.check_invariants`` recomputes them from scratch.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from relance.core.vocab import (
    CompanySize,
    ContactRole,
    CustomerKind,
    DocumentType,
    PayerProfile,
    PaymentKind,
    PaymentMethod,
    RiskClass,
)
from relance.orgs.models import Agency, Company

AMOUNT = {"max_digits": 18, "decimal_places": 3}


class LegalEntity(models.Model):
    """The legal person behind customer accounts: the same SIREN/VAT in two companies is one counterparty."""

    key = models.CharField(max_length=40, unique=True, help_text="SIREN:<siren> or VAT:<vat> or REF:<company>:<ref>")
    name = models.CharField(_("legal name"), max_length=200)
    country = models.CharField(_("country"), max_length=2)
    siren = models.CharField("SIREN", max_length=9, blank=True, db_index=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("legal entities")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A customer account of one company."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="customers")
    reference = models.CharField(_("reference"), max_length=50)
    name = models.CharField(_("legal name"), max_length=200)
    legal_entity = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    siren = models.CharField("SIREN", max_length=9, blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2)
    sector_code = models.CharField(_("sector code"), max_length=10, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    language = models.CharField(_("language"), max_length=2, default="fr")
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.BUSINESS)
    strategic = models.BooleanField(_("strategic"), default=False)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="customers")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="collected_customers"
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sold_customers"
    )
    payer_profile = models.CharField(_("payer profile"), max_length=20, choices=PayerProfile.choices, blank=True)
    risk_class = models.CharField(_("risk class"), max_length=1, choices=RiskClass.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["company_id", "reference"]
        constraints = [
            models.UniqueConstraint(fields=["company", "reference"], name="ledger_customer_ref_unique"),
            models.CheckConstraint(condition=Q(kind__in=CustomerKind.values), name="ledger_customer_kind"),
        ]
        indexes = [models.Index(fields=["name"])]  # collector and sales_rep have their foreign-key indexes

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"

    @property
    def main_contact(self) -> Contact | None:
        return next((c for c in self.contacts.all() if c.is_main_ap), None)


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.ACCOUNTS_PAYABLE)
    is_main_ap = models.BooleanField(_("main accounts-payable contact"), default=False)
    language = models.CharField(_("language"), max_length=2, blank=True)

    class Meta:
        ordering = ["-is_main_ap", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_main_ap=True), name="ledger_contact_one_main_ap"
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email


class Document(models.Model):
    """An invoice or a credit note. ``amount`` includes tax and is positive; the type gives the sign."""

    # no single-column indexes: (company, number), (company, issue_date) and (customer, due_date) lead with them
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="documents", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="documents", db_index=False)
    number = models.CharField(_("number"), max_length=50)
    type = models.CharField(_("type"), max_length=12, choices=DocumentType.choices, default=DocumentType.INVOICE)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount incl. tax"), **AMOUNT)
    tax_amount = models.DecimalField(_("tax"), default=0, **AMOUNT)
    open_amount = models.DecimalField(_("open amount"), **AMOUNT)
    # Date the document became fully settled (last allocation), null while open.
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    corrects = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections")
    original_file = models.FileField(_("original file"), upload_to="documents/%Y/%m/", blank=True)
    source = models.CharField(_("source"), max_length=20, default="manual")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-issue_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="ledger_document_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_document_amount_positive"),
            models.CheckConstraint(condition=Q(tax_amount__gte=0), name="ledger_document_tax_nonnegative"),
            models.CheckConstraint(condition=Q(tax_amount__lte=F("amount")), name="ledger_document_tax_le_amount"),
            models.CheckConstraint(
                condition=Q(open_amount__gte=0) & Q(open_amount__lte=F("amount")), name="ledger_document_open_range"
            ),
            models.CheckConstraint(condition=Q(due_date__gte=F("issue_date")), name="ledger_document_due_after_issue"),
            models.CheckConstraint(condition=Q(type__in=DocumentType.values), name="ledger_document_type"),
        ]
        indexes = [
            models.Index(fields=["customer", "due_date"]),
            models.Index(fields=["company", "issue_date"]),
            models.Index(fields=["due_date"], condition=Q(open_amount__gt=0), name="ledger_doc_open_due"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_credit_note(self) -> bool:
        return self.type == DocumentType.CREDIT_NOTE

    @property
    def is_open(self) -> bool:
        return self.open_amount > 0


class Payment(models.Model):
    """Money received: a payment, or a deposit received before invoicing. ``amount`` is positive."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="payments")
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text="Null while the payer is unidentified.",
    )
    reference = models.CharField(_("reference"), max_length=80)
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    date = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    unallocated_amount = models.DecimalField(_("unallocated"), **AMOUNT)
    method = models.CharField(_("method"), max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER)
    bank_reference = models.CharField(_("bank reference"), max_length=140, blank=True)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=20, default="manual")
    returned_on = models.DateField(
        _("returned on"),
        null=True,
        blank=True,
        help_text="The bank returned the money (bounced, recalled): no longer cash to apply.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "reference"], name="ledger_payment_ref_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unallocated_amount__gte=0) & Q(unallocated_amount__lte=F("amount")),
                name="ledger_payment_unallocated_range",
            ),
            models.CheckConstraint(condition=Q(kind__in=PaymentKind.values), name="ledger_payment_kind"),
        ]
        indexes = [models.Index(fields=["customer", "date"]), models.Index(fields=["company", "date"])]

    def __str__(self) -> str:
        return self.reference


# Allocations that settle a document without cash or credit note: the source system closed it
# (a complete snapshot no longer lists it), or it was written off. They have neither payment nor credit note.
SOURCE_CLOSURE = "source_closure"
WRITE_OFF = "write_off"
NON_CASH_SOURCES = (SOURCE_CLOSURE, WRITE_OFF)


class Allocation(models.Model):
    """A payment or a credit note applied to an invoice, in part or in full; or a non-cash settlement
    (``source`` in NON_CASH_SOURCES, neither payment nor credit note) of any open document.

    Append-only: an allocation is undone by a reversal row (negative amount, ``reverses`` set).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="allocations")
    target = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="allocations_in")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    credit_note = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations_out"
    )
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**AMOUNT)
    date = models.DateField(_("date"))
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    source = models.CharField(max_length=20, default="manual")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(payment__isnull=False) & Q(credit_note__isnull=True))
                | (Q(payment__isnull=True) & Q(credit_note__isnull=False))
                | (Q(payment__isnull=True, credit_note__isnull=True) & Q(source__in=NON_CASH_SOURCES)),
                name="ledger_allocation_one_source",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_allocation_nonzero"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount__gt=0) | Q(reverses__isnull=False, amount__lt=0),
                name="ledger_allocation_sign",
            ),
        ]
        indexes = [models.Index(fields=["customer", "date"])]

    def __str__(self) -> str:
        source = self.payment_id and f"payment {self.payment_id}" or f"credit note {self.credit_note_id}"
        return f"{self.amount} {self.currency} from {source} to document {self.target_id}"


class ExchangeRate(models.Model):
    """ECB-style reference rate: units of ``currency`` for one ``base`` (EUR) on ``date``."""

    date = models.DateField()
    currency = models.CharField(max_length=3)
    base = models.CharField(max_length=3, default="EUR")
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    source = models.CharField(max_length=20, default="ecb")

    class Meta:
        ordering = ["-date", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["base", "currency", "date"], name="ledger_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="ledger_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.base} = {self.rate} {self.currency}"
