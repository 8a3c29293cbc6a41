"""Recommended limit rule and every credit-check outcome (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from relance.risk import config, credit
from relance.risk.credit import CheckInput, LimitInput

CFG = config.resolve({})
D = Decimal


@pytest.mark.parametrize(
    "label, data, expected, steps",
    [
        (
            "12 months of 10,000 a month, class B: 10,000 x 3 x 1.2",
            LimitInput("B", "EUR", D("120000"), 12),
            D("36000.00"),
            ["sales", "rounded"],
        ),
        ("6 months of history: monthly average over 6", LimitInput("C", "EUR", D("30000"), 6), D("15000.00"), None),
        ("no sales: the starter limit of the class", LimitInput("A", "EUR"), D("20000.00"), ["starter", "rounded"]),
        ("class E: nothing", LimitInput("E", "EUR", D("120000"), 12), D("0.00"), None),
        (
            "capped at 10 % of equity",
            LimitInput("A", "EUR", D("120000"), 12, equity=D("50000")),
            D("5000.00"),
            ["sales", "equity_cap", "rounded"],
        ),
        (
            "capped at the provider's limit",
            LimitInput("A", "EUR", D("120000"), 12, provider_limit=D("7777")),
            D("7700.00"),
            ["sales", "provider_cap", "rounded"],
        ),
        ("negative equity: zero", LimitInput("B", "EUR", D("120000"), 12, equity=D("-5")), D("0.00"), None),
        ("rounded down to 100", LimitInput("C", "EUR", D("24690"), 12), D("6100.00"), None),
        (
            "small buyer with a history: never below the starter limit of its class",
            LimitInput("C", "EUR", D("153.36"), 12),  # 12.78 a month x 3 = 38.34, used to round down to 0
            D("5000.00"),
            ["sales", "starter_floor", "rounded"],
        ),
        ("the floor of class D", LimitInput("D", "EUR", D("1200"), 12), D("1000.00"), None),
        (
            "the floor is still capped by equity",
            LimitInput("B", "EUR", D("1200"), 12, equity=D("30000")),
            D("3000.00"),
            ["sales", "starter_floor", "equity_cap", "rounded"],
        ),
    ],
)
def test_recommended_limit_rule(label, data, expected, steps):
    rec = credit.recommended_limit(data, CFG)
    assert rec.amount == expected, label
    if steps:
        assert [s.code for s in rec.steps] == steps


def test_four_eyes_above_the_configured_amount():
    assert not credit.needs_second_approver(D("50000"), CFG)
    assert credit.needs_second_approver(D("50000.01"), CFG)
    assert not credit.needs_second_approver(D("80000"), config.resolve({"limits": {"four_eyes_above": 100000}}))


def check(**kw) -> credit.CheckResult:
    base = dict(amount=D("1000"), currency="EUR", payment_terms_days=30, exposure=D("2000"), limit=D("10000"))
    base.update(kw)
    base.setdefault("risk_class", "B")
    return credit.credit_check(CheckInput(**base), CFG)


@pytest.mark.parametrize(
    "label, kw, decision, deposit, code",
    [
        ("within the limit: approve", {}, "approve", None, "check_within_limit"),
        ("insolvency: block", {"risk_class": "X"}, "block", None, "check_insolvency"),
        ("blocked by a credit manager: block", {"blocked": True}, "block", None, "check_blocked"),
        ("class E: cash in advance", {"risk_class": "E"}, "cash_in_advance", None, "check_class_cash"),
        ("no limit: cash in advance", {"limit": D(0)}, "cash_in_advance", None, "check_no_limit"),
        ("never assessed: cash in advance", {"limit": None}, "cash_in_advance", None, "check_no_limit"),
        (
            "exceeds by a quarter of the order: 25 % deposit",
            {"amount": D("4000"), "exposure": D("7000")},
            "approve_with_deposit",
            25,
            "check_over_limit",
        ),
        (
            "exceeds by 22 %: rounded up to 25",
            {"amount": D("1000"), "exposure": D("9220")},
            "approve_with_deposit",
            25,
            "check_over_limit",
        ),
        (
            "already over the limit: cash in advance",
            {"exposure": D("12000")},
            "cash_in_advance",
            None,
            "check_over_limit",
        ),
        ("class D: 30 % deposit", {"risk_class": "D"}, "approve_with_deposit", 30, "check_class_deposit"),
        (
            "terms longer than the class allows: 20 %",
            {"payment_terms_days": 90},
            "approve_with_deposit",
            20,
            "check_long_terms",
        ),
        (
            "an item overdue by more than 60 days: 30 %",
            {"oldest_overdue_days": 75},
            "approve_with_deposit",
            30,
            "check_overdue",
        ),
    ],
)
def test_credit_check_outcomes(label, kw, decision, deposit, code):
    r = check(**kw)
    assert (r.decision, r.deposit_percent) == (decision, deposit), label
    assert code in [x.code for x in r.reasons]


def test_exposure_after_is_exposure_plus_the_order_in_the_company_currency():
    r = check(amount=D("1234.5"), exposure=D("100"))
    assert r.exposure_after == D("1334.50") and r.currency == "EUR"


def test_the_strictest_deposit_wins():
    r = check(risk_class="D", payment_terms_days=90, amount=D("2000"), exposure=D("9000"))
    assert r.decision == "approve_with_deposit" and r.deposit_percent == 50  # 1,000 over the limit on a 2,000 order
    assert r.reasons[0].code == "check_over_limit"
