"""Errors that speak to the user. Messages are constants, so tests can import them."""

from __future__ import annotations


class RelanceError(Exception):
    """A refusal with a message meant for the user, and where it happened."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ValidationError(RelanceError):
    pass


class PermissionDenied(RelanceError):
    def __init__(self, message: str = "You are not allowed to do this.", **kw: object) -> None:
        super().__init__(message, code="forbidden", **kw)  # type: ignore[arg-type]


class NotFound(RelanceError):
    def __init__(self, message: str = "Not found.", **kw: object) -> None:
        super().__init__(message, code="not_found", **kw)  # type: ignore[arg-type]


# Messages (formatted with str.format)
UNKNOWN_CURRENCY = "Unknown currency code {value!r}: use an ISO 4217 code such as EUR."
CURRENCY_MISMATCH = "Cannot combine {left} and {right}: amounts in different currencies never mix."
NEGATIVE_AMOUNT = "The amount must be positive (got {value}); the document type gives the sign."
ZERO_AMOUNT = "The amount must be greater than zero (got {value})."
NOT_A_NUMBER = "{value!r} is not a decimal amount."
TOO_MANY_DECIMALS = "{value} has more decimals than {currency} allows ({places})."
INVALID_SIREN = "{value!r} is not a valid SIREN (9 digits with a valid check digit)."
INVALID_SIRET = "{value!r} is not a valid SIRET (14 digits with a valid check digit)."
INVALID_VAT = "{value!r} is not a valid VAT number."
INVALID_IBAN = "{value!r} is not a valid IBAN: {reason}."
INVALID_BIC = "{value!r} is not a valid BIC: {reason}."
INVALID_COUNTRY = "{value!r} is not an ISO 3166 country code (two letters, such as FR)."
INVALID_LANGUAGE = "{value!r} is not a supported language (fr or en)."
INVALID_ROLE = "{value!r} is not a role; roles are: {choices}."
ALLOCATION_OVER_TARGET = "Allocation of {amount} exceeds the open amount of document {number} ({open_amount})."
ALLOCATION_OVER_SOURCE = "Allocation of {amount} exceeds what is left of {source} ({open_amount})."
ALLOCATION_CUSTOMER_MISMATCH = "{source} and document {number} belong to different customers."
ALLOCATION_NOT_INVOICE = "Payments and credit notes are allocated to invoices only ({number} is a {kind})."
ALLOCATION_ALREADY_REVERSED = "Allocation {id} has already been reversed."
DUE_BEFORE_ISSUE = "The due date {due} is before the issue date {issue}."
TAX_OVER_AMOUNT = "The tax amount {tax} is larger than the amount including tax {amount}."
DUPLICATE_NUMBER = "Document number {number} already exists in company {company}."
DUPLICATE_REFERENCE = "Reference {reference} already exists in company {company}."
WRONG_COMPANY = "{what} belongs to company {other}, not {company}."
AGENCY_REQUIRED = "An agency manager needs at least one agency (--agency CODE)."
UNKNOWN_COMPANY = "Unknown company {code!r}."
UNKNOWN_AGENCY = "Unknown agency {code!r}."
UNKNOWN_USER = "Unknown user {email!r}."
READ_ONLY_ROLE = "The {role} role is read-only."
