"""SIREN/SIRET/VAT with python-stdnum, IBAN/BIC with schwifty: good values pass, bad ones are named."""

import pytest

from relance.core import errors
from relance.core.identifiers import (
    siren_from_vat,
    validate_bic,
    validate_country,
    validate_iban,
    validate_siren,
    validate_siret,
    validate_vat,
)


def test_valid_french_identifiers_are_compacted():
    assert validate_siren("552 100 554") == "552100554"
    assert validate_siret("73282932000074") == "73282932000074"
    assert validate_vat("FR 40 303 265 045") == "FR40303265045"


@pytest.mark.parametrize(
    "fn, value",
    [
        (validate_siren, "552100555"),
        (validate_siren, "12345"),
        (validate_siret, "73282932000075"),
        (validate_vat, "FR00303265045"),
        (validate_vat, "DE12345"),
        (validate_vat, "XX123"),
    ],
)
def test_invalid_identifiers_are_refused_with_the_value(fn, value):
    with pytest.raises(errors.ValidationError) as exc:
        fn(value)
    assert value in exc.value.message


@pytest.mark.parametrize("vat", ["GB980780684", "DE136695976", "BE0403019261"])
def test_vat_numbers_of_other_countries(vat):
    assert validate_vat(vat) == vat


def test_siren_is_read_from_a_french_vat_number():
    assert siren_from_vat("FR40303265045") == "303265045"
    assert siren_from_vat("DE136695976") is None


def test_iban_and_bic():
    assert validate_iban("FR76 3000 6000 0112 3456 7890 189") == "FR7630006000011234567890189"
    assert validate_bic("BNPAFRPP") == "BNPAFRPP"
    with pytest.raises(errors.ValidationError, match="IBAN"):
        validate_iban("FR7630006000011234567890188")
    with pytest.raises(errors.ValidationError, match="BIC"):
        validate_bic("BNP")


def test_country_codes():
    assert validate_country("fr") == "FR"
    with pytest.raises(errors.ValidationError):
        validate_country("France")
