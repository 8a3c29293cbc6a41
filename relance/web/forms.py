"""Forms of the staff pages: the login form and the list filters.

Filter forms only parse what the user typed; the values go to the ledger selectors, which
apply them *within* the user's scope, so no filter can widen what a user sees.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from relance.core.vocab import DocumentType
from relance.ledger import selectors


class LoginForm(AuthenticationForm):
    """E-mail and password."""

    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": _("Unknown e-mail or wrong password."),
        "inactive": _("This account is inactive. Ask your administrator to reactivate it."),
    }


SORT_CUSTOMERS = [
    ("reference", _("Reference")),
    ("name", _("Name")),
    ("oldest_overdue", _("Most days overdue")),
]

SORT_DOCUMENTS = [
    ("-issue_date", _("Newest first")),
    ("due_date", _("Due date")),
    ("-open_amount", _("Largest open amount")),
    ("number", _("Number")),
]


def _choice_or_default(value: str, choices: list[tuple[str, Any]]) -> str:
    return value if value in {c for c, _label in choices} else choices[0][0]


class CustomerFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    company = forms.CharField(label=_("Company"), required=False, max_length=20)
    agency = forms.CharField(label=_("Agency"), required=False, max_length=20)
    collector = forms.IntegerField(label=_("Collector"), required=False, min_value=1)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    risk_class = forms.CharField(label=_("Risk class"), required=False, max_length=1)
    sort = forms.CharField(label=_("Sort by"), required=False)

    def filters(self) -> selectors.CustomerFilters:
        d = self.cleaned_data
        return selectors.CustomerFilters(
            q=d["q"].strip(),
            company=d["company"].strip(),
            agency=d["agency"].strip(),
            collector=d["collector"],
            currency=d["currency"].strip(),
            overdue=d["overdue"],
            risk_class=d["risk_class"].strip(),
        )

    @property
    def sort_key(self) -> str:
        value = self.cleaned_data.get("sort", "") if self.is_valid() else ""
        return _choice_or_default(value or "", SORT_CUSTOMERS)

    @property
    def active(self) -> bool:
        """Whether any filter (other than the sort) is set."""
        return self.is_valid() and any(v for k, v in self.cleaned_data.items() if k != "sort")


class DocumentFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("Any status")), ("open", _("Open")), ("settled", _("Settled"))]

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    company = forms.CharField(label=_("Company"), required=False, max_length=20)
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1)
    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("Any type")), *DocumentType.choices])
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.CharField(label=_("Sort by"), required=False)
    # dashboard drill-down: kept as hidden fields by the list's filter bar
    agency = forms.CharField(required=False, max_length=20)
    collector = forms.IntegerField(required=False, min_value=1)
    risk_class = forms.CharField(required=False, max_length=1)
    days_min = forms.IntegerField(required=False)
    days_max = forms.IntegerField(required=False)
    disputed = forms.BooleanField(required=False)

    DRILL_DOWN = ("agency", "collector", "risk_class", "days_min", "days_max", "disputed")

    def filters(self) -> selectors.DocumentFilters:
        d = self.cleaned_data
        return selectors.DocumentFilters(
            q=d["q"].strip(),
            company=d["company"].strip(),
            customer=d["customer"],
            type=d["type"],
            currency=d["currency"].strip(),
            status=d["status"],
            overdue=d["overdue"],
            agency=d["agency"].strip(),
            collector=d["collector"],
            risk_class=d["risk_class"].strip(),
            days_min=d["days_min"],
            days_max=d["days_max"],
            disputed=d["disputed"],
        )

    def drill_down(self) -> list[tuple[str, object]]:
        """The drill-down filters set (to keep them as hidden fields when the filter bar is submitted)."""
        if not self.is_valid():
            return []
        return [(k, self.cleaned_data[k]) for k in self.DRILL_DOWN if self.cleaned_data[k] not in (None, "", False)]

    @property
    def sort_key(self) -> str:
        value = self.cleaned_data.get("sort", "") if self.is_valid() else ""
        return _choice_or_default(value or "", SORT_DOCUMENTS)

    @property
    def active(self) -> bool:
        return self.is_valid() and any(v for k, v in self.cleaned_data.items() if k != "sort")
