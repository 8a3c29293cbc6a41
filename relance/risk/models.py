"""Customer risk: current score and limits per account, score history, the inputs (financial statements,
legal events, external scores), credit-insurance cover, factored documents, ERP orders and limit grants.

Amounts are DecimalFields beside a ``currency`` column (the company's currency for limits and exposure).
``ledger.Customer.risk_class`` mirrors ``CustomerRisk.risk_class`` (kept in sync by risk.services).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.core.vocab import RiskClass
from relance.ledger.models import Customer, Document, LegalEntity
from relance.orgs.models import Company, Group

AMOUNT = {"max_digits": 18, "decimal_places": 3}


class RiskSettings(models.Model):
    """The group's scoring and monitoring settings: a validated JSON document (defaults in risk.config)."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="risk_settings")
    document = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("risk settings")

    def __str__(self) -> str:
        return f"Risk settings of {self.group}"


class CustomerRisk(models.Model):
    """A customer account's current risk: score, class, reasons, limits, block and dunning stop."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="risk")
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    risk_class = models.CharField(_("risk class"), max_length=1, choices=RiskClass.choices, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    factors = models.JSONField(default=dict, blank=True, help_text="Sub-scores, weights and inputs used.")
    inputs_hash = models.CharField(max_length=64, blank=True, help_text="Fingerprint of the inputs last scored.")
    scored_on = models.DateField(_("scored on"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    requested_limit = models.DecimalField(_("requested limit"), null=True, blank=True, **AMOUNT)
    recommended_limit = models.DecimalField(_("recommended limit"), null=True, blank=True, **AMOUNT)
    recommended_rule = models.TextField(_("rule"), blank=True)
    granted_limit = models.DecimalField(_("granted limit"), null=True, blank=True, **AMOUNT)
    granted_expires_on = models.DateField(_("granted limit expires on"), null=True, blank=True)
    granted_note = models.TextField(_("note"), blank=True)
    blocked = models.BooleanField(_("blocked"), default=False)
    blocked_reason = models.CharField(_("block reason"), max_length=200, blank=True)
    dunning_stopped = models.BooleanField(
        _("dunning stopped"), default=False, help_text="Insolvency proceedings: no dunning in any company."
    )
    insolvency_since = models.DateField(_("insolvency proceedings since"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("customer risks")
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="risk_customerrisk_score_range"),
            models.CheckConstraint(
                condition=Q(granted_limit__isnull=True) | Q(granted_limit__gte=0), name="risk_customerrisk_granted_pos"
            ),
            models.CheckConstraint(
                condition=Q(recommended_limit__isnull=True) | Q(recommended_limit__gte=0),
                name="risk_customerrisk_recommended_pos",
            ),
        ]
        indexes = [models.Index(fields=["blocked"]), models.Index(fields=["dunning_stopped"])]

    def __str__(self) -> str:
        return f"{self.customer}: {self.risk_class or '-'} ({self.score})"


class ScoreHistory(models.Model):
    """One row per customer and date its score or class changed (and the first scoring)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="score_history")
    as_of = models.DateField(_("date"))
    score = models.PositiveSmallIntegerField(_("score"))
    risk_class = models.CharField(_("risk class"), max_length=1, choices=RiskClass.choices)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["customer_id", "as_of"]
        verbose_name_plural = _("score history")
        constraints = [models.UniqueConstraint(fields=["customer", "as_of"], name="risk_scorehistory_unique")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.as_of} {self.risk_class} {self.score}"


class LegalEntityRisk(models.Model):
    """The score of a legal entity across the group's companies (worst account, weighted by exposure)."""

    legal_entity = models.OneToOneField(LegalEntity, on_delete=models.CASCADE, related_name="risk")
    score = models.PositiveSmallIntegerField(_("score"))
    risk_class = models.CharField(_("risk class"), max_length=1, choices=RiskClass.choices)
    scored_on = models.DateField(_("scored on"))

    def __str__(self) -> str:
        return f"{self.legal_entity}: {self.risk_class} ({self.score})"


class FinancialStatement(models.Model):
    """A fiscal year's key figures for a legal entity (entered or imported)."""

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="financial_statements")
    fiscal_year_end = models.DateField(_("fiscal year end"))
    currency = models.CharField(_("currency"), max_length=3)
    total_assets = models.DecimalField(_("total assets"), **AMOUNT)
    total_liabilities = models.DecimalField(_("total liabilities"), **AMOUNT)
    equity = models.DecimalField(_("equity"), **AMOUNT)
    working_capital = models.DecimalField(_("working capital"), **AMOUNT)
    retained_earnings = models.DecimalField(_("retained earnings"), **AMOUNT)
    ebit = models.DecimalField("EBIT", **AMOUNT)
    sales = models.DecimalField(_("sales"), **AMOUNT)
    cash = models.DecimalField(_("cash"), **AMOUNT)
    source = models.CharField(_("source"), max_length=40, default="manual")
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["legal_entity_id", "-fiscal_year_end"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "fiscal_year_end"], name="risk_financials_unique"),
            models.CheckConstraint(condition=Q(total_assets__gt=0), name="risk_financials_assets_positive"),
            models.CheckConstraint(condition=Q(total_liabilities__gte=0), name="risk_financials_liabilities"),
            models.CheckConstraint(condition=Q(sales__gte=0), name="risk_financials_sales"),
        ]

    def __str__(self) -> str:
        return f"{self.legal_entity} {self.fiscal_year_end}"


class LegalEventKind(models.TextChoices):
    SAFEGUARD = "safeguard", _("Safeguard proceedings")
    RECEIVERSHIP = "receivership", _("Receivership")
    LIQUIDATION = "liquidation", _("Judicial liquidation")
    PLAN = "plan", _("Continuation or recovery plan adopted")
    CLOSURE = "closure", _("Proceedings closed")
    PAYMENT_INCIDENT = "payment_incident", _("Registered payment incident")


# Events that open insolvency proceedings: class X and dunning stops.
OPENING_KINDS = (LegalEventKind.SAFEGUARD, LegalEventKind.RECEIVERSHIP, LegalEventKind.LIQUIDATION)


class LegalEvent(models.Model):
    """An announcement about a legal entity (BODACC-like feed): proceedings, plans, payment incidents."""

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="legal_events")
    kind = models.CharField(_("kind"), max_length=20, choices=LegalEventKind.choices)
    reference = models.CharField(_("announcement reference"), max_length=80, unique=True)
    published_on = models.DateField(_("published on"))
    judgment_date = models.DateField(_("judgment date"), null=True, blank=True)
    court = models.CharField(_("court"), max_length=200, blank=True)
    representative = models.CharField(_("court-appointed representative"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=40, default="bodacc")
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["legal_entity_id", "-published_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=LegalEventKind.values), name="risk_legalevent_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.published_on}"


class ExternalScore(models.Model):
    """A credit-information provider's score for a legal entity, normalised to 0-100 (higher is safer)."""

    legal_entity = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="external_scores")
    provider = models.CharField(_("provider"), max_length=40)
    as_of = models.DateField(_("date"))
    score = models.PositiveSmallIntegerField(_("score (0-100)"))
    raw_value = models.CharField(_("provider's value"), max_length=40, blank=True)
    recommended_limit = models.DecimalField(_("provider's limit"), null=True, blank=True, **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["legal_entity_id", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "provider", "as_of"], name="risk_externalscore_unique"),
            models.CheckConstraint(condition=Q(score__lte=100), name="risk_externalscore_range"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.as_of}: {self.score}"


class CreditInsuranceCover(models.Model):
    """Credit insurance on a customer account: the insurer covers up to ``insured_amount``."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="insurance_covers")
    insurer = models.CharField(_("insurer"), max_length=100)
    reference = models.CharField(_("policy reference"), max_length=80, blank=True)
    insured_amount = models.DecimalField(_("insured amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer_id", "-valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(insured_amount__gt=0), name="risk_cover_amount_positive"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("valid_from")),
                name="risk_cover_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.insurer} {self.insured_amount} {self.currency}"


class FactoredDocument(models.Model):
    """An invoice assigned to a factor (counted in factored outstanding until released or settled)."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, related_name="factoring")
    factor = models.CharField(_("factor"), max_length=100)
    assigned_on = models.DateField(_("assigned on"))
    released_on = models.DateField(_("released on"), null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(released_on__isnull=True) | Q(released_on__gte=models.F("assigned_on")),
                name="risk_factored_dates",
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id} -> {self.factor}"


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    INVOICED = "invoiced", _("Invoiced")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    """An order not yet invoiced, upserted by the ERP (POST /api/v1/orders): counts in exposure while open."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    reference = models.CharField(_("reference"), max_length=80)
    order_date = models.DateField(_("order date"))
    amount = models.DecimalField(_("open amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "reference"], name="risk_order_ref_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="risk_order_amount"),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="risk_order_status"),
        ]
        indexes = [models.Index(fields=["customer", "status"])]

    def __str__(self) -> str:
        return self.reference


class LimitStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting second approval")
    ACTIVE = "active", _("Active")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded")


class CreditLimit(models.Model):
    """A credit-limit decision: granted by a credit manager, with a second approver above the threshold."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_limits")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=LimitStatus.choices)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_on = models.DateField(_("decided on"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer_id", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="risk_creditlimit_amount"),
            models.CheckConstraint(condition=Q(status__in=LimitStatus.values), name="risk_creditlimit_status"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"


class Claim(models.Model):
    """A claim to declare to the court-appointed representative after proceedings opened (two months)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="claims")
    legal_event = models.ForeignKey(LegalEvent, on_delete=models.CASCADE, related_name="claims")
    deadline = models.DateField(_("declaration deadline"))
    declared_on = models.DateField(_("declared on"), null=True, blank=True)
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["deadline", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "legal_event"], name="risk_claim_unique")]

    def __str__(self) -> str:
        return f"Claim {self.customer_id} by {self.deadline}"


class RescoreRun(models.Model):
    """One rescoring pass (daily job or ``relance risk rescore``): the next incremental run starts from it."""

    as_of = models.DateField(_("date"))
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    full = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Rescore {self.as_of} ({'all' if self.full else 'changed'})"
