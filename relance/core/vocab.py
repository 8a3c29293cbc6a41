"""Shared vocabularies, fixed once and used unchanged by every feature, API and file.

Changing a value here is a breaking change for files, the API and webhooks.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    CREDIT_MANAGER = "credit_manager", _("Credit manager")
    COLLECTOR = "collector", _("Collector")
    SALES_REP = "sales_rep", _("Sales rep")
    AGENCY_MANAGER = "agency_manager", _("Agency manager")
    AUDITOR = "auditor", _("Auditor (read-only)")


class PayerProfile(models.TextChoices):
    PROMPT = "prompt", _("Prompt")
    SLOW_STEADY = "slow_steady", _("Slow but steady")
    ERRATIC = "erratic", _("Erratic")
    DETERIORATING = "deteriorating", _("Deteriorating")
    DEFAULTING = "defaulting", _("Defaulting")


class RiskClass(models.TextChoices):
    A = "A", _("A: lowest risk")
    B = "B", _("B: low risk")
    C = "C", _("C: moderate risk")
    D = "D", _("D: high risk")
    E = "E", _("E: highest risk")
    X = "X", _("X: insolvency proceedings")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Letter")
    SMS = "sms", _("SMS")
    CALL = "call", _("Phone call")
    FORMAL_NOTICE = "formal_notice", _("Formal notice")
    LITIGATION = "litigation", _("Litigation")


class DocumentType(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")
    CHECK = "check", _("Cheque")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    BILL = "bill", _("Bill of exchange (LCR)")
    OTHER = "other", _("Other")


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    DEPOSIT = "deposit", _("Deposit received before invoicing")


class CustomerKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    CONSUMER = "consumer", _("Consumer")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("Micro")
    SMALL = "small", _("Small")
    MEDIUM = "medium", _("Medium")
    LARGE = "large", _("Large")


class ContactRole(models.TextChoices):
    ACCOUNTS_PAYABLE = "accounts_payable", _("Accounts payable")
    FINANCE = "finance", _("Finance")
    PURCHASING = "purchasing", _("Purchasing")
    MANAGEMENT = "management", _("Management")
    OTHER = "other", _("Other")


LANGUAGES = ("fr", "en")
