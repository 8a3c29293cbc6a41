"""Features are as-of only: nothing dated on or after the prediction date may change them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.ml.features import FEATURE_NAMES, InvoiceFacts, customer_features, invoice_features

D0 = dt.date(2025, 1, 1)


def inv(key, issue, terms=30, settled=None, amount="1000.00", disputes=(), reminders=()):
    issue_date = D0 + dt.timedelta(days=issue)
    due = issue_date + dt.timedelta(days=terms)
    return InvoiceFacts(
        key=key,
        issue_date=issue_date,
        due_date=due,
        amount=Decimal(amount),
        settled_on=None if settled is None else due + dt.timedelta(days=settled),
        disputes=tuple(D0 + dt.timedelta(days=d) for d in disputes),
        reminders=tuple(D0 + dt.timedelta(days=d) for d in reminders),
    )


def test_past_delays_count_only_when_paid_before_the_date():
    history = [inv(1, 0, settled=10), inv(2, 30, settled=40), inv(3, 60, settled=2)]
    target = inv(9, 100)
    # invoice 1 paid day 40, invoice 2 day 100 (not before as_of=100), invoice 3 day 92
    feats = invoice_features(target, history, D0 + dt.timedelta(days=100))
    assert feats["n_settled"] == 2
    assert feats["mean_delay"] == 6.0
    assert feats["last_delay"] == 2.0  # invoice 3 was settled last (day 92)
    assert feats["n_open_overdue"] == 1  # invoice 2: due day 60, unpaid on day 100
    assert feats["oldest_overdue_days"] == 40


def test_own_reminders_and_disputes_count_only_before_the_date():
    target = inv(9, 0, reminders=(31, 45, 80), disputes=(50,))
    feats = invoice_features(target, [], D0 + dt.timedelta(days=50))
    assert feats["reminders_so_far"] == 2
    assert feats["own_disputes"] == 0  # opened on the prediction date itself: not yet known
    assert feats["days_past_due"] == 20 and feats["age_days"] == 50


def test_the_trend_is_positive_when_delays_grow():
    history = [inv(k, 30 * k, settled=3 * k) for k in range(8)]
    feats = customer_features(history, D0 + dt.timedelta(days=400))
    assert feats["trend"] == pytest.approx(3.0)


def test_predicting_before_the_issue_date_is_refused():
    with pytest.raises(ValueError, match="before its issue date"):
        invoice_features(inv(1, 10), [], D0)


def test_a_customer_with_no_history_has_neutral_features():
    feats = invoice_features(inv(1, 0), [], D0)
    assert list(feats) == list(FEATURE_NAMES)
    assert feats["n_settled"] == 0 and feats["days_since_last_payment"] == 9999.0 and feats["amount_ratio"] == 1.0


invoice_st = st.builds(
    lambda key, issue, terms, delay, paid, amount, disputes, reminders: inv(
        key, issue, terms, delay if paid else None, str(amount), disputes, reminders
    ),
    key=st.integers(0, 10_000),
    issue=st.integers(0, 400),
    terms=st.sampled_from([0, 30, 45, 60]),
    delay=st.integers(-20, 150),
    paid=st.booleans(),
    amount=st.decimals(min_value=1, max_value=100_000, places=2),
    disputes=st.lists(st.integers(0, 600), max_size=2),
    reminders=st.lists(st.integers(0, 600), max_size=3),
)


def _future_change(draw, item: InvoiceFacts, as_of: dt.date, *, target: bool = False) -> InvoiceFacts:
    """Change only what happens on or after ``as_of`` (the predicted invoice's own terms are known then)."""
    if item.issue_date >= as_of and not target:  # an invoice not issued yet: anything about it may change
        return dataclasses.replace(
            item,
            amount=Decimal(draw(st.integers(1, 10**6))),
            due_date=item.issue_date + dt.timedelta(days=draw(st.integers(0, 90))),
            settled_on=item.issue_date + dt.timedelta(days=draw(st.integers(0, 200))),
            disputes=(item.issue_date,),
            reminders=(item.issue_date,),
        )
    later = as_of + dt.timedelta(days=draw(st.sampled_from([0, 1]) | st.integers(0, 300)))  # often the day itself
    settled = item.settled_on
    if settled is None or settled >= as_of:  # not paid yet on as_of: it may be paid any day from as_of, or never
        settled = draw(st.sampled_from([None, later]))
    return dataclasses.replace(
        item,
        settled_on=settled,
        disputes=tuple(d for d in item.disputes if d < as_of) + (later,) * draw(st.integers(0, 2)),
        reminders=tuple(d for d in item.reminders if d < as_of) + (later,) * draw(st.integers(0, 3)),
    )


@given(data=st.data(), history=st.lists(invoice_st, max_size=12, unique_by=lambda i: i.key), offset=st.integers(0, 500))
def test_nothing_on_or_after_the_date_changes_any_feature(data, history, offset):
    target = data.draw(invoice_st.filter(lambda i: i.key not in {h.key for h in history}))
    as_of = target.issue_date + dt.timedelta(days=offset)
    before = invoice_features(target, history + [target], as_of)

    changed_history = [_future_change(data.draw, h, as_of) for h in history]
    changed_target = _future_change(data.draw, target, as_of, target=True)
    new_invoices = [
        dataclasses.replace(x, key=20_000 + i, issue_date=max(x.issue_date, as_of), due_date=max(x.due_date, as_of))
        for i, x in enumerate(data.draw(st.lists(invoice_st, max_size=3)))
    ]
    after = invoice_features(changed_target, changed_history + new_invoices + [changed_target], as_of)
    assert after == before


def _quantile(values, q):
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _reference(history, as_of, exclude=None, late_days=30):
    """A plain-Python statement of the as-of rules, to check the vectorised implementation against."""
    issued = [i for i in history if i.key != exclude and i.issue_date < as_of]
    paid = sorted(
        (i for i in issued if i.settled_on is not None and i.settled_on < as_of),
        key=lambda i: (i.settled_on, i.due_date, str(i.key)),
    )
    delays = [float(i.delay) for i in paid]
    overdue = [i for i in issued if (i.settled_on is None or i.settled_on >= as_of) and i.due_date < as_of]
    return {
        "n_settled": float(len(delays)),
        "mean_delay": sum(delays) / len(delays) if delays else 0.0,
        "median_delay": statistics.median(delays) if delays else 0.0,
        "iqr_delay": _quantile(delays, 0.75) - _quantile(delays, 0.25) if delays else 0.0,
        "recent_median_delay": statistics.median(delays[-6:]) if delays else 0.0,
        "last_delay": delays[-1] if delays else 0.0,
        "max_delay": max(delays, default=0.0),
        "share_late": sum(d > late_days for d in delays) / len(delays) if delays else 0.0,
        "days_since_last_payment": float((as_of - paid[-1].settled_on).days) if paid else 9999.0,
        "n_open_overdue": float(len(overdue)),
        "oldest_overdue_days": float(max(((as_of - i.due_date).days for i in overdue), default=0)),
        "disputes_before": float(sum(1 for i in issued for d in i.disputes if d < as_of)),
    }


@given(data=st.data(), history=st.lists(invoice_st, min_size=1, max_size=15, unique_by=lambda i: i.key))
def test_the_vectorised_features_match_a_plain_statement_of_the_rules(data, history):
    # the boundaries matter most: predict on the very day an invoice was issued, fell due or was paid
    days = [d for i in history for d in (i.issue_date, i.due_date, i.settled_on) if d is not None]
    as_of = data.draw(st.sampled_from(days) | st.dates(D0, D0 + dt.timedelta(days=700)))
    exclude = history[0].key
    got = customer_features(history, as_of, exclude=exclude)
    want = _reference(history, as_of, exclude)
    assert {k: got[k] for k in want} == pytest.approx(want)
