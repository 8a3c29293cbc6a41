"""Django admin for reference data, and a read-only view of the ledger and the audit trail.

* Every list goes through ``core.scope.restrict`` for the models it knows, so a staff user
  who is not a superuser sees in the admin what they see on the staff pages, no more.
* The ledger (customers, contacts, documents, payments, allocations), disputes, API keys and
  the audit trail are read-only here: they change through their services (which validate,
  keep the invariants and write the audit row), never by editing a row.
* Changes to reference data made here are recorded in the audit trail with the acting user.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from relance.collections.models import Dispute
from relance.core import audit, scope
from relance.core.models import AuditEntry
from relance.ledger.models import Allocation, Contact, Customer, Document, ExchangeRate, LegalEntity, Payment
from relance.orgs.models import Agency, ApiKey, BankAccount, Company, Group, User


def _scoped(request: HttpRequest, queryset: QuerySet) -> QuerySet:
    """The queryset within the user's scope when a scope rule exists for the model; superusers see all."""
    if request.user.is_superuser:
        return queryset
    try:
        return scope.restrict(request.user, queryset)
    except LookupError:
        return queryset  # models without a customer or company (group, rates): Django's permissions decide


class ScopedAdmin(admin.ModelAdmin):
    """Lists within the user's scope; each save or delete writes an audit row with the acting user."""

    audit_exclude: tuple[str, ...] = ()  # fields never copied to the audit trail (secrets)

    def _snapshot(self, obj: models.Model) -> dict[str, Any]:
        return {k: v for k, v in audit.snapshot(obj).items() if k not in self.audit_exclude}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return _scoped(request, super().get_queryset(request))

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        before = self._snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change and obj.pk else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = self._snapshot(obj)
            changes = audit.diff(before, after)
            if change and not changes:
                return
            action = f"{obj._meta.model_name}.{'admin_update' if change else 'admin_create'}"
            audit.record(actor=request.user, action=action, obj=obj, changes=changes, message="Django admin")

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            audit.record(
                actor=request.user,
                action=f"{obj._meta.model_name}.admin_delete",
                obj=obj,
                changes=self._snapshot(obj),
                message="Django admin",
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyAdmin(ScopedAdmin):
    """Visible, never edited here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Organisation --------------------------------------------------------------------------


@admin.register(Group)
class GroupAdmin(ScopedAdmin):
    list_display = ("name", "currency")


class AgencyInline(admin.TabularInline):
    model = Agency
    extra = 0
    fields = ("code", "name")


class BankAccountInline(admin.TabularInline):
    model = BankAccount
    extra = 0
    fields = ("iban", "bic", "label", "currency")


@admin.register(Company)
class CompanyAdmin(ScopedAdmin):
    list_display = ("code", "name", "country", "currency", "siren", "vat_number")
    search_fields = ("code", "name", "siren", "vat_number")
    list_filter = ("country", "currency")
    inlines = [AgencyInline, BankAccountInline]


@admin.register(Agency)
class AgencyAdmin(ScopedAdmin):
    list_display = ("code", "name", "company")
    search_fields = ("code", "name")
    list_filter = ("company",)
    list_select_related = ("company",)


@admin.register(BankAccount)
class BankAccountAdmin(ScopedAdmin):
    list_display = ("iban", "bic", "label", "currency", "company")
    list_filter = ("company",)
    search_fields = ("iban", "label")


class UserCreationForm(BaseUserCreationForm):
    """Users sign in with their e-mail address, which is also stored as the username."""

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role", "language")

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.username = user.email
        if commit:
            user.save()
            self.save_m2m()
        return user


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(ScopedAdmin, DjangoUserAdmin):
    audit_exclude = ("password", "last_login")
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("email", "first_name", "last_name", "role", "language", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff", "companies", "agencies")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    filter_horizontal = ("companies", "agencies", "groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "language")}),
        (_("Role and scope"), {"fields": ("role", "companies", "agencies")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "first_name", "last_name", "role", "language", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Users are not customer data: Django's permissions decide who may list them.
        return admin.ModelAdmin.get_queryset(self, request)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        obj.username = obj.email
        super().save_model(request, obj, form, change)
        scope.forget(obj)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Keys are created with ``relance apikey``; the digest is never shown."""

    list_display = ("prefix", "user", "label", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("prefix", "user__email", "label")
    exclude = ("digest",)


# --- Ledger -----------------------------------------------------------------------------------


@admin.register(LegalEntity)
class LegalEntityAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "country", "siren", "vat_number")
    search_fields = ("key", "name", "siren", "vat_number")
    list_filter = ("country",)


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "email", "phone", "role", "is_main_ap", "language")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    """Customers change through ``ledger.services.customer_upsert`` (imports, API): read-only here."""

    list_display = ("reference", "name", "company", "agency", "collector", "sales_rep", "risk_class", "strategic")
    list_filter = ("company", "agency", "kind", "strategic", "risk_class", "payer_profile")
    search_fields = ("reference", "name", "siren", "siret", "vat_number")
    list_select_related = ("company", "agency", "collector", "sales_rep")
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("name", "email", "phone", "role", "is_main_ap", "customer")
    search_fields = ("name", "email", "customer__reference", "customer__name")
    list_filter = ("role", "is_main_ap")
    list_select_related = ("customer",)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "type",
        "customer",
        "company",
        "issue_date",
        "due_date",
        "currency",
        "amount",
        "open_amount",
    )
    list_filter = ("company", "type", "currency")
    search_fields = ("number", "customer__reference", "customer__name")
    list_select_related = ("customer", "company")
    date_hierarchy = "issue_date"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("reference", "date", "customer", "company", "currency", "amount", "unallocated_amount", "method")
    list_filter = ("company", "kind", "method", "currency")
    search_fields = ("reference", "bank_reference", "payer_name", "customer__reference", "customer__name")
    list_select_related = ("customer", "company")
    date_hierarchy = "date"


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("id", "date", "customer", "target", "payment", "credit_note", "currency", "amount", "reverses")
    list_filter = ("currency",)
    search_fields = ("target__number", "payment__reference", "credit_note__number", "customer__reference")
    list_select_related = ("customer", "target", "payment", "credit_note")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    """Rates are loaded with ``relance rates``."""

    list_display = ("date", "base", "currency", "rate", "source")
    list_filter = ("currency", "source")
    date_hierarchy = "date"


# --- Collections ----------------------------------------------------------------------------------


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "reason", "status", "opened_on", "resolved_on", "owner")
    list_filter = ("status", "reason")
    search_fields = ("customer__reference", "customer__name", "message")
    list_select_related = ("customer", "owner")


# --- Audit trail ------------------------------------------------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "object_type", "object_id", "object_repr")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "action", "object_type", "object_id", "object_repr", "message")
    date_hierarchy = "at"
