"""Valid, made-up legal and bank identifiers, built with the check-digit functions of the field's libraries."""

from __future__ import annotations

import random

from schwifty import IBAN
from stdnum import luhn
from stdnum.gb import vat as gb_vat
from stdnum.ie import vat as ie_vat


def siren(rng: random.Random) -> str:
    """Nine digits whose last one is the Luhn check digit (stdnum.fr.siren); never starting with 0."""
    body = str(rng.randrange(10_000_000, 100_000_000))
    return body + luhn.calc_check_digit(body)


def siret(siren_number: str, establishment: int) -> str:
    """SIREN + four-digit establishment number (NIC) + Luhn check digit over the fourteen digits."""
    body = f"{siren_number}{establishment % 10_000:04d}"
    return body + luhn.calc_check_digit(body)


def fr_vat(siren_number: str) -> str:
    """FR + two-digit key + SIREN; the key is (12 + 3 × (SIREN mod 97)) mod 97."""
    return f"FR{(12 + 3 * (int(siren_number) % 97)) % 97:02d}{siren_number}"


def gb_vat_number(rng: random.Random) -> str:
    """GB + nine digits passing stdnum.gb.vat (weighted sum mod 97 is 0 or 42)."""
    while True:
        body = f"{rng.randrange(100, 1000)}{rng.randrange(10_000):04d}"
        # weights 8..2 on the seven digits, then the two check digits weigh 10 and 1: pick them to hit 0 mod 97
        partial = sum(w * int(n) for w, n in zip((8, 7, 6, 5, 4, 3, 2), body, strict=True))
        check = (-partial) % 97
        number = f"{body}{check:02d}"
        if gb_vat.is_valid(number):
            return "GB" + number


def ie_vat_number(rng: random.Random) -> str:
    """IE + seven digits + check letter (stdnum.ie.vat)."""
    body = f"{rng.randrange(1_000_000, 10_000_000)}"
    return "IE" + body + ie_vat.calc_check_digit(body)


def iban(country: str, *, bank_code: str, branch_code: str, account_code: str) -> str:
    """A valid IBAN from its parts (schwifty computes the national and IBAN check digits)."""
    return IBAN.generate(country, bank_code=bank_code, branch_code=branch_code, account_code=account_code).compact


def bic_of(iban_number: str) -> str:
    """The BIC of the bank behind an IBAN (schwifty's bank registry)."""
    bic = IBAN(iban_number).bic
    if bic is None:
        raise ValueError(f"No BIC known for the bank of {iban_number}")
    return str(bic.compact)
