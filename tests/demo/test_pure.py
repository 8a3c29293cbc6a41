"""Pure parts of the generator: payer behaviours, identifiers, proportional spreading (no database)."""

from __future__ import annotations

import random
from statistics import mean

import pytest
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret
from stdnum.fr import tva as fr_tva
from stdnum.gb import vat as gb_vat
from stdnum.ie import vat as ie_vat

from relance.core.vocab import PayerProfile
from relance.demo import identifiers as ids
from relance.demo.behaviour import Behaviour
from relance.demo.customers import slots, spread
from relance.demo.writer import check_schema

AS_OF = 740_000  # an ordinal; only differences matter


def delays(b: Behaviour, due: int, n: int = 400) -> list[int | None]:
    rng = random.Random(1)
    return [b.delay(rng, due) for _ in range(n)]


def test_a_prompt_payer_pays_around_the_due_date():
    assert -3 < mean(delays(Behaviour(PayerProfile.PROMPT, AS_OF), AS_OF - 500)) < 3


def test_a_slow_steady_payer_is_15_to_30_days_late():
    assert set(delays(Behaviour(PayerProfile.SLOW_STEADY, AS_OF), AS_OF - 500)) <= set(range(15, 31))


def test_an_erratic_payer_varies_widely():
    values = delays(Behaviour(PayerProfile.ERRATIC, AS_OF), AS_OF - 500)
    assert min(values) < 0 and max(values) > 60


def test_a_deteriorating_payer_drifts_from_on_time_to_weeks_late():
    b = Behaviour(PayerProfile.DETERIORATING, AS_OF, drift_from=AS_OF - 240)
    before, midway, lately = (mean(delays(b, due)) for due in (AS_OF - 400, AS_OF - 120, AS_OF - 5))
    assert before < 3 < midway < lately
    assert lately > 45


def test_a_defaulting_payer_never_pays_what_falls_due_after_it_stops():
    b = Behaviour(PayerProfile.DEFAULTING, AS_OF, stop=AS_OF - 100)
    assert all(d is not None for d in delays(b, AS_OF - 400))
    assert set(delays(b, AS_OF - 90)) == {None}


@pytest.mark.parametrize("seed", range(5))
def test_generated_identifiers_pass_their_check_digits(seed):
    rng = random.Random(seed)
    siren = ids.siren(rng)
    assert fr_siren.is_valid(siren)
    assert fr_siret.is_valid(ids.siret(siren, rng.randrange(10_000)))
    assert fr_tva.is_valid(ids.fr_vat(siren))
    assert gb_vat.is_valid(ids.gb_vat_number(rng)[2:])
    assert ie_vat.is_valid(ids.ie_vat_number(rng)[2:])


def test_an_iban_is_built_with_its_bank_bic():
    iban = ids.iban("FR", bank_code="30004", branch_code="00821", account_code="00010293847")
    assert iban.startswith("FR76") and ids.bic_of(iban) == "BNPAFRPP"


@pytest.mark.parametrize(
    ("total", "weights", "minimum", "expected"),
    [
        (10, [1.0, 1.0], 0, [5, 5]),
        (10, [3.0, 1.0], 0, [8, 2]),  # 7.5 / 2.5: the leftover unit goes to the larger remainder first
        (5, [1.0, 100.0, 1.0], 1, [1, 3, 1]),
        (2, [1.0, 1.0, 1.0], 1, [1, 1, 0]),  # too few to give everyone the minimum
    ],
)
def test_spread_splits_exactly_in_proportion(total, weights, minimum, expected):
    result = spread(total, weights, minimum)
    assert sum(result) == total
    assert sorted(result) == sorted(expected)


def test_slots_give_every_value_at_least_once():
    values = slots(random.Random(3), 6, (("a", 90), ("b", 5), ("c", 5)))
    assert sorted(set(values)) == ["a", "b", "c"] and len(values) == 6


def test_the_writer_matches_the_models_columns():
    check_schema()
