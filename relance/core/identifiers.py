"""Validation of legal and bank identifiers with the field's own libraries.

python-stdnum for SIREN, SIRET and VAT numbers; schwifty for IBAN and BIC.
Each function returns the compact, canonical form or raises ValidationError naming the value.
"""

from __future__ import annotations

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret

from . import errors

# Countries whose VAT numbers stdnum validates outside the EU module
_NON_EU_VAT = {"GB": "stdnum.gb.vat", "CH": "stdnum.ch.vat", "NO": "stdnum.no.mva"}

COUNTRIES = frozenset(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW "
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI "
    "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN "
    "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF "
    "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE "
    "YT ZA ZM ZW".split()
)


def validate_country(value: object) -> str:
    code = str(value or "").strip().upper()
    if code not in COUNTRIES:
        raise errors.ValidationError(errors.INVALID_COUNTRY.format(value=value), field="country")
    return code


def validate_siren(value: str, field: str = "siren") -> str:
    try:
        return fr_siren.validate(value)
    except stdnum_exceptions.ValidationError:
        raise errors.ValidationError(errors.INVALID_SIREN.format(value=value), field=field)


def validate_siret(value: str, field: str = "siret") -> str:
    try:
        return fr_siret.validate(value)
    except stdnum_exceptions.ValidationError:
        raise errors.ValidationError(errors.INVALID_SIRET.format(value=value), field=field)


def validate_vat(value: str, field: str = "vat_number") -> str:
    """A VAT number with its country prefix (FR40303265045, DE136695976, GB980780684)."""
    compact = "".join(str(value).split()).upper().replace("-", "").replace(".", "")
    prefix = compact[:2]
    try:
        if prefix in _NON_EU_VAT:
            import importlib

            module = importlib.import_module(_NON_EU_VAT[prefix])
            return prefix + module.validate(compact[2:] if prefix != "CH" else compact).removeprefix(prefix)
        return eu_vat.validate(compact)
    except (stdnum_exceptions.ValidationError, ImportError):
        raise errors.ValidationError(errors.INVALID_VAT.format(value=value), field=field)


def siren_from_vat(vat: str) -> str | None:
    """The SIREN inside a French VAT number (FRkk + SIREN), else None."""
    if vat.startswith("FR") and len(vat) == 13 and vat[4:].isdigit():
        return vat[4:]
    return None


def validate_iban(value: str, field: str = "iban") -> str:
    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        raise errors.ValidationError(errors.INVALID_IBAN.format(value=value, reason=exc), field=field)


def validate_bic(value: str, field: str = "bic") -> str:
    try:
        return str(BIC(value).compact)
    except SchwiftyException as exc:
        raise errors.ValidationError(errors.INVALID_BIC.format(value=value, reason=exc), field=field)
