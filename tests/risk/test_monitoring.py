"""Monitoring rules (pure): each condition, and the slippage test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from relance.risk import config, monitoring
from relance.risk import domain as d
from relance.risk.monitoring import CoverIn, MonitorInput, OverdueItem

AS_OF = dt.date(2026, 6, 30)
CFG = config.resolve({})
D = Decimal


def window(days: list[int]) -> d.WindowStats:
    return d.WindowStats(len(days), sum(1 for x in days if x > 5), D(sum(days)), D(sum(x * x for x in days)))


@pytest.mark.parametrize(
    "label, recent, prior, significant",
    [
        ("on time, then three weeks late", [20, 24, 19, 26], [0, 2, -1, 1, 3, 0], True),
        ("steady delay", [10, 12, 9], [11, 9, 10, 12, 10], False),
        ("noisy history: not significant", [20, 2, 35], [0, 30, -5, 25, 1, 28], False),
        ("too few recent invoices", [30, 30], [0, 0, 0, 0, 0], False),
        ("too few prior invoices", [30, 30, 30], [0, 0, 0, 0], False),
        ("drift under the minimum days", [7, 8, 7, 8], [0, 0, 1, 0, 0, 1], False),
        ("constant shift without spread", [15, 15, 15], [0, 0, 0, 0, 0], True),
    ],
)
def test_payment_slippage_is_a_significant_drift_against_the_customers_own_history(label, recent, prior, significant):
    assert (monitoring.slippage(window(recent), window(prior), CFG) is not None) is significant, label


def test_welch_t_matches_a_hand_computation():
    s = monitoring.slippage(window([20, 24, 19, 26]), window([0, 2, -1, 1, 3, 0]), CFG)
    # means 22.25 and 0.8333; variances 10.9167 and 2.1667; se = sqrt(10.9167/4 + 2.1667/6) = 1.7588
    assert round(s.t, 2) == 12.18
    assert 3 < s.df < 5 and s.critical == pytest.approx(2.353)


@pytest.mark.parametrize("df, alpha, value", [(1, "0.05", 6.314), (11, "0.05", 1.812), (500, "0.01", 2.326)])
def test_t_critical_values(df, alpha, value):
    assert monitoring.t_critical(df, alpha) == value


def base(**kw) -> MonitorInput:
    values = dict(
        risk_class="B",
        best_recent_class="B",
        stats=d.BehaviourStats(),
        exposure=D("1000"),
        limit=D("5000"),
        currency="EUR",
    )
    values.update(kw)
    return MonitorInput(**values)


def kinds(data: MonitorInput) -> list[tuple[str, str]]:
    return [(c.kind, c.key) for c in monitoring.conditions(data, as_of=AS_OF, cfg=CFG)]


def test_a_quiet_customer_has_no_condition():
    assert kinds(base()) == []


@pytest.mark.parametrize(
    "label, kw, expected",
    [
        ("class downgrade", {"risk_class": "D"}, ("risk.class_downgrade", "B>D")),
        ("upgrade is not an alert", {"risk_class": "A"}, None),
        ("limit overrun", {"exposure": D("5000.01")}, ("risk.limit_overrun", "")),
        ("no limit: no overrun", {"exposure": D("9e9"), "limit": None}, None),
        # a recommended limit of 0 (class E, negative equity) is "no credit", covered by the class: no overrun alert
        ("recommended 0: no overrun", {"risk_class": "E", "best_recent_class": "E", "limit": D("0")}, None),
        ("granted 0 is a decision: overrun", {"limit": D("0"), "limit_granted": True}, ("risk.limit_overrun", "")),
        ("granted 0 and nothing owed", {"exposure": D("0"), "limit": D("0"), "limit_granted": True}, None),
        (
            "new legal event",
            {"legal_events": (("A2026-1", "receivership", AS_OF - dt.timedelta(days=2)),)},
            ("risk.legal_event", "A2026-1"),
        ),
        ("old legal event", {"legal_events": (("A2025-1", "receivership", dt.date(2025, 1, 1)),)}, None),
        (
            "new overdue above the threshold",
            {"overdue_items": (OverdueItem("F-1", D("12000"), AS_OF - dt.timedelta(days=3)),)},
            ("risk.new_overdue", "F-1"),
        ),
        ("small overdue", {"overdue_items": (OverdueItem("F-2", D("100"), AS_OF - dt.timedelta(days=3)),)}, None),
        ("old overdue", {"overdue_items": (OverdueItem("F-3", D("9000"), AS_OF - dt.timedelta(days=45)),)}, None),
        (
            "cover expiring",
            {"covers": (CoverIn(7, "Atradius", AS_OF + dt.timedelta(days=20), dt.date(2025, 7, 1)),)},
            ("risk.cover_expiring", "cover:7"),
        ),
        (
            "cover expiring but renewed",
            {
                "covers": (
                    CoverIn(7, "Atradius", AS_OF + dt.timedelta(days=20), dt.date(2025, 7, 1)),
                    CoverIn(8, "Atradius", AS_OF + dt.timedelta(days=385), AS_OF + dt.timedelta(days=21)),
                )
            },
            None,
        ),
        (
            "broken promise while overdue",
            {
                "broken_promises": ((12, AS_OF - dt.timedelta(days=2)),),
                "stats": d.BehaviourStats(overdue_amount=D(10), open_amount=D(10)),
            },
            ("promise.broken", "12"),
        ),
        ("broken promise but nothing overdue any more", {"broken_promises": ((12, AS_OF),)}, None),
        (
            "slippage",
            {"stats": d.BehaviourStats(recent=window([20, 24, 19, 26]), prior=window([0, 2, -1, 1, 3, 0]))},
            ("risk.payment_slippage", ""),
        ),
    ],
)
def test_each_condition(label, kw, expected):
    found = kinds(base(**kw))
    assert found == ([expected] if expected else []), label
