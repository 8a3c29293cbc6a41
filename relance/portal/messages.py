"""Messages the portal shows the customer: English constants (tests import them), translated when shown."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from relance.core import errors

NOTHING_SELECTED = gettext_noop("Select at least one open invoice.")
NOT_PAYABLE = gettext_noop("Some of the selected invoices are not open invoices of your account.")
MIXED_CURRENCIES = gettext_noop(
    "The selected invoices are in several currencies ({currencies}): pay each currency separately."
)
NOTHING_LEFT = gettext_noop("The selected invoices are already paid.")
BAD_DATE = gettext_noop("Give the date as YYYY-MM-DD.")
BAD_AMOUNT = gettext_noop("Give the amount as a number, such as 1250.00.")
DATE_IN_PAST = gettext_noop("The date cannot be before today ({today}).")
DATE_TOO_FAR = gettext_noop("Choose a date within {days} days.")
AMOUNT_TOO_HIGH = gettext_noop("The amount is more than what is open on the selected invoices ({open}).")
PROMISE_ONE_CURRENCY = gettext_noop("Promise invoices of one currency at a time.")
NO_REASON = gettext_noop("Choose a reason.")
FILE_TOO_BIG = gettext_noop("The file is larger than {limit} MB.")
FILE_TYPE = gettext_noop("Attach a PDF, PNG or JPEG file.")
EMPTY_CONTACT = gettext_noop("Give at least a name, an e-mail address or a phone number.")
BAD_EMAIL = gettext_noop("{value} is not an e-mail address.")


class PortalError(errors.ValidationError):
    """A refusal shown to the customer, in the customer's language."""

    def __init__(self, template: str, *, field: str, **params: Any) -> None:
        super().__init__(template.format(**params), field=field)
        self.template = template
        self.params = params

    def localized(self) -> str:
        return gettext(self.template).format(**self.params)


def shown(exc: errors.RelanceError) -> str:
    """The message of a refusal as the customer reads it."""
    return exc.localized() if isinstance(exc, PortalError) else exc.message
