"""Pure scoring: each input moves the score the documented way; each missing source falls back (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from relance.risk import config
from relance.risk import domain as d

AS_OF = dt.date(2026, 6, 30)
CFG = config.resolve({})
D = Decimal


def settled(days_late: int, age: int, amount: str = "1000") -> d.SettledItem:
    settled_on = AS_OF - dt.timedelta(days=age)
    return d.SettledItem(D(amount), settled_on - dt.timedelta(days=days_late), settled_on)


def stats(items=(), open_items=(), **kw) -> d.BehaviourStats:
    return d.stats_from_items(items, open_items, as_of=AS_OF, cfg=CFG, **kw)


ON_TIME = [settled(0, age) for age in (10, 40, 70, 100, 150, 200, 250, 300)]
GOOD_FIN = d.Financials(
    fiscal_year_end=dt.date(2025, 12, 31),
    total_assets=D("1000000"),
    total_liabilities=D("400000"),
    equity=D("600000"),
    working_capital=D("250000"),
    retained_earnings=D("300000"),
    ebit=D("120000"),
    sales=D("2000000"),
    cash=D("100000"),
)


def result(**kw) -> d.ScoreResult:
    return d.score(d.ScoreInput(**kw), as_of=AS_OF, cfg=CFG)


def codes(r: d.ScoreResult) -> list[str]:
    return [x.code for x in r.reasons]


# --- behaviour ----------------------------------------------------------------------------------------------


def test_a_customer_who_always_pays_on_time_scores_100_on_behaviour_and_says_so():
    r = result(behaviour=stats(ON_TIME))
    assert r.score == 100 and r.risk_class == "A"
    assert "on_time" in codes(r)


@pytest.mark.parametrize(
    "label, items, kw, expected_code",
    [
        ("days beyond terms", [settled(30, age) for age in (10, 40, 70, 100, 150, 200, 250, 300)], {}, "dbt"),
        ("share paid late", [settled(8, age) for age in (10, 40, 70, 100)] + ON_TIME[4:], {}, "late_share"),
        ("broken promises", ON_TIME, {"broken_promises": 2}, "broken_promises"),
        ("open disputes", ON_TIME, {"open_disputes": 2}, "disputes"),
    ],
)
def test_each_behaviour_input_lowers_the_score_and_is_named(label, items, kw, expected_code):
    clean = result(behaviour=stats(ON_TIME)).score
    r = result(behaviour=stats(items, **kw))
    assert r.score < clean, label
    assert expected_code in codes(r), label


def test_current_overdue_lowers_the_score_more_when_older():
    young = [d.OpenItem(D("5000"), AS_OF - dt.timedelta(days=5))]
    old = [d.OpenItem(D("5000"), AS_OF - dt.timedelta(days=120))]
    clean = result(behaviour=stats(ON_TIME)).score
    r_young = result(behaviour=stats(ON_TIME, young))
    r_old = result(behaviour=stats(ON_TIME, old))
    assert r_old.score < r_young.score < clean
    assert "overdue" in codes(r_old)


def test_not_yet_due_items_do_not_count_as_overdue():
    not_due = [d.OpenItem(D("5000"), AS_OF + dt.timedelta(days=20))]
    assert result(behaviour=stats(ON_TIME, not_due)).score == result(behaviour=stats(ON_TIME)).score


def test_recent_delays_weigh_more_than_old_ones():
    recent_late = [settled(40, 10)] + [settled(0, a) for a in (200, 250, 300, 320, 340)]
    old_late = [settled(40, 300)] + [settled(0, a) for a in (10, 20, 30, 40, 50)]
    s_recent, s_old = stats(recent_late), stats(old_late)
    assert s_recent.average_days_beyond_terms > s_old.average_days_beyond_terms
    assert result(behaviour=s_recent).score < result(behaviour=s_old).score


def test_larger_invoices_weigh_more_in_the_days_beyond_terms():
    big_late = [settled(30, 10, "9000"), settled(0, 20, "1000")]
    small_late = [settled(30, 10, "1000"), settled(0, 20, "9000")]
    assert stats(big_late).average_days_beyond_terms == D(27)
    assert stats(small_late).average_days_beyond_terms == D(3)


def test_a_customer_drifting_from_on_time_to_weeks_late_shows_the_drift():
    drifting = [settled(0, a) for a in (120, 150, 180, 210, 240, 270)] + [settled(25, a) for a in (10, 30, 60)]
    r = result(behaviour=stats(drifting))
    assert "drift" in codes(r)
    steady = [settled(8, a) for a in (10, 30, 60, 120, 150, 180, 210, 240, 270)]
    assert "drift" not in codes(result(behaviour=stats(steady)))


def test_invoices_settled_before_the_lookback_are_ignored():
    assert stats([settled(60, 400)]).settled_count == 0


# --- fallbacks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, size, sector, expected",
    [
        ("unknown size and sector: the default", "", "", 60),
        ("a large company", "large", "", 70),
        ("a micro company in construction", "micro", "4321Z", 46),
        ("a medium company in public administration", "medium", "8411Z", 74),
    ],
)
def test_without_any_source_the_sector_and_size_baseline_is_the_score(label, size, sector, expected):
    r = result(size=size, sector_code=sector)
    assert r.score == expected, label
    assert codes(r) == ["baseline"]


def test_a_thin_history_is_blended_with_the_baseline():
    two_bad = [settled(40, 10), settled(40, 20)]
    full_bad = [settled(40, a) for a in (10, 20, 30, 40, 50, 60, 70, 80)]
    thin, full = result(behaviour=stats(two_bad)), result(behaviour=stats(full_bad))
    assert thin.score > full.score  # the baseline (60) pulls a thin history towards it
    assert "thin_history" in [x.code for x in d.behaviour_score(stats(two_bad), CFG)[2]]


def test_a_missing_source_shares_its_weight_among_the_others():
    behaviour_only = result(behaviour=stats(ON_TIME))
    with_external = result(behaviour=stats(ON_TIME), external=(d.ExternalScoreIn("bureau", 40, AS_OF),))
    # weights 50 behaviour (100) + 25 external (40): (5000 + 1000) / 75 = 80
    assert behaviour_only.score == 100 and with_external.score == 80


@pytest.mark.parametrize(
    "label, fy_end, expected_present",
    [
        ("last year's statements count", dt.date(2025, 12, 31), True),
        ("statements older than 24 months are ignored", dt.date(2024, 3, 31), False),
        ("statements dated after as_of are ignored", dt.date(2026, 12, 31), False),
    ],
)
def test_financial_statements_count_only_while_recent(label, fy_end, expected_present):
    f = dataclasses.replace(GOOD_FIN, fiscal_year_end=fy_end)
    assert (d.financial_score(f, as_of=AS_OF, cfg=CFG) is not None) is expected_present, label


def test_an_external_score_older_than_a_year_is_ignored_and_the_latest_per_provider_counts():
    old = d.ExternalScoreIn("bureau", 10, AS_OF - dt.timedelta(days=400))
    assert d.external_score([old], as_of=AS_OF, cfg=CFG) is None
    scores = [d.ExternalScoreIn("a", 20, AS_OF - dt.timedelta(days=100)), d.ExternalScoreIn("a", 80, AS_OF)]
    scores.append(d.ExternalScoreIn("b", 60, AS_OF))
    assert d.external_score(scores, as_of=AS_OF, cfg=CFG)[0] == D(70)


# --- financial statements -----------------------------------------------------------------------------------


def test_altman_z2_matches_a_hand_computation():
    # X1 .25, X2 .3, X3 .12, X4 1.5: 6.56*.25 + 3.26*.3 + 6.72*.12 + 1.05*1.5 = 1.64 + .978 + .8064 + 1.575
    assert d.altman_z2(GOOD_FIN) == D("4.9994")


@pytest.mark.parametrize(
    "z, expected",
    [(D(-2), 0), (D("1.1"), 35), (D("1.85"), D("52.5")), (D("2.6"), 70), (D(5), 100), (D(9), 100)],
)
def test_z2_maps_to_a_score_through_the_zones(z, expected):
    assert d.z_to_score(z) == D(expected)


def test_weak_statements_lower_the_score_and_negative_equity_caps_it():
    weak = dataclasses.replace(GOOD_FIN, working_capital=D("-100000"), retained_earnings=D("-50000"), ebit=D("-20000"))
    negative = dataclasses.replace(weak, equity=D("-10000"))
    good_r, weak_r, neg_r = (result(financials=f) for f in (GOOD_FIN, weak, negative))
    assert good_r.score > weak_r.score > neg_r.score
    assert neg_r.score <= 20 and "negative_equity" in codes(neg_r)
    assert "z_distress" in codes(weak_r)


# --- legal events -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["safeguard", "receivership", "liquidation"])
def test_opened_proceedings_give_class_x_whatever_else_is_known(kind):
    event = d.LegalEventIn(kind, AS_OF - dt.timedelta(days=3), AS_OF - dt.timedelta(days=10))
    r = result(behaviour=stats(ON_TIME), financials=GOOD_FIN, legal_events=(event,))
    assert (r.risk_class, r.score, codes(r)) == ("X", 0, ["insolvency"])
    assert r.legal.since == AS_OF - dt.timedelta(days=10)


def test_a_plan_ends_class_x_but_caps_the_class_and_closure_ends_everything():
    opened = d.LegalEventIn("receivership", dt.date(2025, 1, 10))
    plan = d.LegalEventIn("plan", dt.date(2025, 9, 1))
    closure = d.LegalEventIn("closure", dt.date(2026, 5, 1))
    with_plan = result(behaviour=stats(ON_TIME), legal_events=(opened, plan))
    assert with_plan.risk_class == "D" and "plan" in codes(with_plan)
    closed = result(behaviour=stats(ON_TIME), legal_events=(opened, plan, closure))
    assert closed.risk_class == "A"


def test_an_event_published_after_as_of_is_not_known_yet():
    event = d.LegalEventIn("liquidation", AS_OF + dt.timedelta(days=1))
    assert result(behaviour=stats(ON_TIME), legal_events=(event,)).risk_class == "A"


def test_a_recent_payment_incident_costs_points_and_caps_the_class_an_old_one_does_not():
    recent = d.LegalEventIn("payment_incident", AS_OF - dt.timedelta(days=30))
    old = d.LegalEventIn("payment_incident", AS_OF - dt.timedelta(days=500))
    r = result(behaviour=stats(ON_TIME), legal_events=(recent,))
    assert r.score == 85 and r.risk_class == "C" and "payment_incident" in codes(r)
    assert result(behaviour=stats(ON_TIME), legal_events=(old,)).risk_class == "A"


# --- external scores, classes, reasons ----------------------------------------------------------------------


def test_a_low_external_score_lowers_the_score_and_is_named():
    r = result(behaviour=stats(ON_TIME), external=(d.ExternalScoreIn("bureau", 15, AS_OF),))
    assert r.score < 100 and "external_low" in codes(r)


@pytest.mark.parametrize("score, cls", [(100, "A"), (80, "A"), (79, "B"), (65, "B"), (50, "C"), (35, "D"), (34, "E")])
def test_class_thresholds(score, cls):
    assert d.class_for(score, CFG) == cls


def test_the_class_thresholds_follow_the_groups_settings():
    cfg = config.resolve({"classes": {"A": 90}})
    assert d.class_for(85, cfg) == "B"


def test_reasons_are_worst_first_and_at_most_four():
    bad = [settled(45, a) for a in (10, 40, 70)] + [settled(0, a) for a in (120, 150, 200, 250, 300)]
    r = result(
        behaviour=stats(bad, [d.OpenItem(D("9000"), AS_OF - dt.timedelta(days=150))], broken_promises=3),
        external=(d.ExternalScoreIn("bureau", 10, AS_OF),),
    )
    assert 2 <= len(r.reasons) <= 4
    impacts = [x.impact for x in r.reasons]
    assert impacts == sorted(impacts, reverse=True)
