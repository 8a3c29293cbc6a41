"""Settings documents: merged over the defaults, refused with the key named."""

from __future__ import annotations

import pytest

from relance.core import errors
from relance.risk import config


def test_an_empty_document_gives_the_defaults():
    assert config.resolve({}) == config.DEFAULTS
    assert config.resolve(None)["weights"]["behaviour"] == 50


def test_a_document_overrides_only_what_it_names():
    cfg = config.resolve({"weights": {"external": 0}, "baseline": {"by_sector": {"10": 3}}})
    assert cfg["weights"] == {"behaviour": 50, "financials": 25, "external": 0}
    assert cfg["baseline"]["by_sector"]["10"] == 3 and cfg["baseline"]["by_sector"]["41"] == -6


@pytest.mark.parametrize(
    "label, document, field",
    [
        ("unknown key", {"weights": {"gut_feeling": 10}}, "weights.gut_feeling"),
        ("not a number", {"behaviour": {"grace_days": "soon"}}, "behaviour.grace_days"),
        ("a boolean is not a number", {"limits": {"round_to": True}}, "limits.round_to"),
        ("thresholds out of order", {"classes": {"B": 90}}, "classes"),
        ("all weights zero", {"weights": {"behaviour": 0, "financials": 0, "external": 0}}, "weights"),
        ("unknown class", {"legal": {"plan_class_cap": "Z"}}, "legal.plan_class_cap"),
        ("unknown alpha", {"monitoring": {"slippage_alpha": "0.2"}}, "monitoring.slippage_alpha"),
        ("not an object", {"weights": 3}, "weights"),
    ],
)
def test_a_bad_document_is_refused_naming_the_setting(label, document, field):
    with pytest.raises(errors.ValidationError) as exc:
        config.resolve(document)
    assert field in str(exc.value), label
