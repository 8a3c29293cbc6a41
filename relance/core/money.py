"""Money: a Decimal amount with its ISO 4217 currency.

Built from strings, ints or Decimals, never from floats. Adding two currencies raises.
Rounding is explicit: :meth:`Money.rounded` quantizes to the currency's minor unit
(ROUND_HALF_UP, the commercial rule, unless told otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

from . import errors

# ISO 4217 codes we accept (Babel's list; historic and testing codes included where Babel has them)
_CURRENCIES: frozenset[str] = frozenset(list_currencies())


def validate_currency(code: object) -> str:
    """Return the upper-cased ISO code or raise ValidationError naming the value."""
    if not isinstance(code, str) or code.strip().upper() not in _CURRENCIES or len(code.strip()) != 3:
        raise errors.ValidationError(errors.UNKNOWN_CURRENCY.format(value=code), field="currency")
    return code.strip().upper()


def is_currency(code: object) -> bool:
    return isinstance(code, str) and len(code) == 3 and code.upper() in _CURRENCIES


@lru_cache(maxsize=512)
def minor_units(currency: str) -> int:
    """Decimal places of the currency's minor unit (EUR 2, JPY 0, TND 3)."""
    return int(get_currency_precision(currency))


@lru_cache(maxsize=512)
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def to_decimal(value: object, *, field: str = "amount") -> Decimal:
    """Parse an amount from str/int/Decimal; floats are refused (they are not exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise errors.ValidationError(errors.NOT_A_NUMBER.format(value=value), field=field)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise errors.ValidationError(errors.NOT_A_NUMBER.format(value=value), field=field)
    else:
        raise errors.ValidationError(errors.NOT_A_NUMBER.format(value=value), field=field)
    if not result.is_finite():
        raise errors.ValidationError(errors.NOT_A_NUMBER.format(value=value), field=field)
    return result


def quantize(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round an amount to the currency's minor unit with a named rounding mode."""
    return amount.quantize(quantum(currency), rounding=rounding)


def from_db(value: object, currency: str) -> Decimal:
    """A figure coming back from the database (SQLite returns sums as floats) to an exact Decimal.

    Floats from SQLite aggregates carry binary noise; they are converted through their
    shortest repr and quantized to the currency's minor unit, which is exact for sums of
    stored amounts well below 2**53 minor units.
    """
    if value is None:
        return quantize(Decimal(0), currency)
    if isinstance(value, float):
        value = Decimal(repr(value))
    return quantize(Decimal(value), currency)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", validate_currency(self.currency))
        object.__setattr__(self, "amount", to_decimal(self.amount))

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(quantize(Decimal(0), currency), currency)

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise errors.ValidationError(
                errors.CURRENCY_MISMATCH.format(left=self.currency, right=other.currency), field="currency"
            )

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise TypeError("Multiply Money by a Decimal, never a float")
        return Money(self.amount * Decimal(factor), self.currency)

    def _cmp(self, other: Money) -> tuple[Decimal, Decimal]:
        self._check(other)
        return self.amount, other.amount

    def __lt__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a < b

    def __le__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a <= b

    def __gt__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a > b

    def __ge__(self, other: Money) -> bool:
        a, b = self._cmp(other)
        return a >= b

    def rounded(self, rounding: str = ROUND_HALF_UP) -> Money:
        return Money(quantize(self.amount, self.currency, rounding), self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.rounded().amount} {self.currency}"

    def as_json(self) -> dict[str, str]:
        return {"amount": str(self.rounded().amount), "currency": self.currency}


def sum_by_currency(items: Iterable[Money]) -> dict[str, Money]:
    """Sum Money values, keeping one total per currency (never mixing them)."""
    totals: dict[str, Money] = {}
    for item in items:
        totals[item.currency] = totals[item.currency] + item if item.currency in totals else item
    return totals


def allocate(total: Money, weights: list[Decimal]) -> list[Money]:
    """Split ``total`` by ``weights``, quantized, leftover minor units spread from the first share.

    The parts always add up exactly to the rounded total.
    """
    if not weights or sum(weights) <= 0:
        raise ValueError("allocate needs positive weights")
    q = quantum(total.currency)
    whole = quantize(total.amount, total.currency)
    weight_sum = sum(weights)
    parts = [(whole * w / weight_sum).quantize(q, rounding="ROUND_DOWN") for w in weights]
    leftover = whole - sum(parts)
    step = q if leftover >= 0 else -q
    i = 0
    while leftover != 0:
        parts[i % len(parts)] += step
        leftover -= step
        i += 1
    return [Money(p, total.currency) for p in parts]
