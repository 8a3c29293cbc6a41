"""What the ML app stores: one prediction per open invoice, the payer-profile features, the model files.

Predictions are refreshed by the daily job (``relance.ml.jobs``); the latest one per document is kept
(``as_of`` says when it was made). Probabilities are floats (they are not money).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.core.vocab import PayerProfile
from relance.ledger.models import Customer, Document
from relance.orgs.models import Company


class ModelVersion(models.Model):
    """A trained model file for one company: where it is, when it was trained, how it scored."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    version = models.CharField(_("version"), max_length=40, unique=True)
    path = models.CharField(_("file"), max_length=500)
    trained_on = models.DateField(_("trained on"))
    trained_at = models.DateTimeField(_("trained at"))
    n_train = models.PositiveIntegerField(_("training invoices"), default=0)
    metrics = models.JSONField(_("metrics"), default=dict)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["company_id", "-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company"], condition=Q(active=True), name="ml_model_one_active"),
        ]

    def __str__(self) -> str:
        return self.version


class InvoicePrediction(models.Model):
    """The latest prediction for an open invoice: when it will be paid, how likely it is paid late."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, primary_key=True, related_name="prediction")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    as_of = models.DateField(_("predicted on"))
    expected_payment_date = models.DateField(_("expected payment date"))
    expected_days_late = models.IntegerField(_("expected days late"))
    late_threshold_days = models.PositiveSmallIntegerField(_("late threshold (days)"), default=30)
    prob_late = models.FloatField(_("probability of being paid late"))
    interval_low = models.DateField(_("earliest likely payment date"))
    interval_high = models.DateField(_("latest likely payment date"))
    model_version = models.CharField(_("model version"), max_length=40)
    fallback = models.BooleanField(_("fallback used"), default=False)
    fallback_reason = models.CharField(_("fallback reason"), max_length=200, blank=True)
    reasons = models.JSONField(_("reasons"), default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["customer", "expected_payment_date"])]
        constraints = [
            models.CheckConstraint(condition=Q(prob_late__gte=0) & Q(prob_late__lte=1), name="ml_prediction_prob"),
            models.CheckConstraint(
                condition=Q(interval_low__lte=models.F("interval_high")), name="ml_prediction_interval"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.expected_payment_date} (p_late={self.prob_late:.2f})"


class PayerFeatures(models.Model):
    """The features that put a customer in its payer profile (``ledger.Customer.payer_profile``)."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, primary_key=True, related_name="+")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    as_of = models.DateField(_("computed on"))
    profile = models.CharField(_("payer profile"), max_length=20, choices=PayerProfile.choices, blank=True)
    rule = models.CharField(_("rule"), max_length=200, blank=True)
    rule_key = models.CharField(_("rule key"), max_length=30, blank=True)
    rule_params = models.JSONField(_("rule parameters"), default=dict)
    features = models.JSONField(_("features"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.profile or '-'}"
