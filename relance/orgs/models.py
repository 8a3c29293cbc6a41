"""Group (the tenant) → companies (legal entities) → agencies; users, roles and API keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.core.vocab import Role


class Group(models.Model):
    """The tenant: one per installation, with its consolidation currency."""

    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("consolidation currency"), max_length=3, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Company(models.Model):
    """A legal entity of the group, with its base currency."""

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="companies")
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2)
    currency = models.CharField(_("base currency"), max_length=3)
    siren = models.CharField("SIREN", max_length=9, blank=True)
    siret = models.CharField("SIRET", max_length=14, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    timezone = models.CharField(_("time zone"), max_length=40, default="Europe/Paris")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class BankAccount(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="bank_accounts")
    iban = models.CharField("IBAN", max_length=34, unique=True)
    bic = models.CharField("BIC", max_length=11, blank=True)
    label = models.CharField(_("label"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)

    def __str__(self) -> str:
        return self.iban


class Agency(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="agencies")
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RelanceUserManager(UserManager):
    def _create_user(self, username: str | None, email: str, password: str | None, **extra: object):  # type: ignore[override] # noqa: ANN202
        email = self.normalize_email(email)
        user = self.model(username=email, email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object):  # type: ignore[override] # noqa: ANN201
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object):  # type: ignore[override] # noqa: ANN201
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.ADMIN)
        return self._create_user(None, email, password, **extra)


class User(AbstractUser):
    """A staff user. Logs in with the e-mail address; sees what core.scope allows."""

    email = models.EmailField(_("e-mail address"), unique=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.COLLECTOR)
    language = models.CharField(
        _("language"), max_length=2, default="en", choices=[("en", "English"), ("fr", "Français")]
    )
    companies = models.ManyToManyField(Company, blank=True, related_name="users", verbose_name=_("companies"))
    agencies = models.ManyToManyField(Agency, blank=True, related_name="users", verbose_name=_("agencies"))

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = RelanceUserManager()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class ApiKey(models.Model):
    """A bearer token for the API, acting as its user (and so within the user's scope).

    Only a SHA-256 digest of the token is stored; the token itself is shown once.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user.email})"
