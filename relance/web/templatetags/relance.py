"""Presentation helpers for the staff pages: amounts with their currency, dates, query strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_decimal, format_percent
from django import template
from django.utils.translation import get_language, to_locale

from relance.core.money import is_currency, quantize

register = template.Library()


def _locale() -> str:
    return to_locale(get_language() or "en")


@register.filter
def money(amount: Any, currency: str) -> str:
    """``1234.5|money:"EUR"`` → "€1,234.50" (en) or "1 234,50 €" (fr): quantized to the currency's minor unit."""
    if amount is None or amount == "":
        return ""
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if not is_currency(currency):
        return format_decimal(amount, locale=_locale())
    return format_currency(quantize(amount, currency.upper()), currency.upper(), locale=_locale())


@register.filter
def percent(value: Any) -> str:
    """A ratio (0.25) as a localized percentage ("25%", "25 %"); empty when undefined."""
    if value is None or value == "":
        return ""
    return format_percent(Decimal(str(value)), locale=_locale())


@register.filter
def isodate(value: dt.date | dt.datetime | None) -> str:
    """Business dates in ISO form (2026-06-30): unambiguous in every language."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


@register.filter
def user_label(user: Any) -> str:
    """A person's full name, else their e-mail."""
    if user is None:
        return ""
    return user.get_full_name() or user.email
