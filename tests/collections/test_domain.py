"""The step decision, without a database: accounts in, actions out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from relance.collections import rulebook
from relance.collections.domain import (
    COVERED,
    DISPUTED,
    INSOLVENCY,
    NO_LEVEL,
    PROMISED,
    REPLY_PENDING,
    Account,
    Item,
    choose_scenario,
    decide,
)

BOOK = rulebook.parse(rulebook.default_text())
AS_OF = dt.date(2026, 6, 30)
STEP_DAYS = {s.key: s.day for s in BOOK.scenarios["standard"].steps}


def inv(id: int, days_late: int, amount: str = "100", **kw) -> Item:
    return Item(id=id, number=f"F{id}", due_date=AS_OF - dt.timedelta(days=days_late), open_amount=D(amount), **kw)


def acct(*items: Item, **kw) -> Account:
    return Account(customer_id=1, company_id=1, currency="EUR", items=items, company_code="FR1", **kw)


def summary(actions) -> list[tuple]:
    return [(a.step, a.channel, a.documents, a.reason) for a in actions]


@pytest.mark.parametrize(
    "label, items, expected",
    [
        ("nothing due yet", [inv(1, -10)], []),
        ("courtesy three days before the due date", [inv(1, -3)], [("courtesy", "email", (1,), "")]),
        ("first reminder the day after", [inv(1, 1, level=-3)], [("first_reminder", "email", (1,), "")]),
        ("already at first reminder: nothing new on day 2", [inv(1, 2, level=1)], []),
        ("catch-up sends only the step now due", [inv(1, 12)], [("second_reminder", "email", (1,), "")]),
        ("call only for significant amounts", [inv(1, 16, "400", level=8)], []),
        ("call when the late amount is significant", [inv(1, 16, "600", level=8)], [("phone_call", "call", (1,), "")]),
        (
            "the late amount of several invoices counts",
            [inv(1, 16, "300", level=8), inv(2, 20, "300", level=8)],
            [("phone_call", "call", (1, 2), "")],
        ),
        (
            "formal notice above its threshold, not the call it skipped",
            [inv(1, 31, "1500", level=8)],
            [("formal_notice", "formal_notice", (1,), "")],
        ),
        ("never skips back after a scenario change", [inv(1, 16, "50", level=30)], []),
        (
            "two invoices at different steps of the same channel: one e-mail",
            [inv(1, 1), inv(2, 9, level=1)],
            [("second_reminder", "email", (1, 2), "")],
        ),
        (
            "one communication per channel",
            [inv(1, 1), inv(2, 16, "800", level=8)],
            [("first_reminder", "email", (1,), ""), ("phone_call", "call", (2,), "")],
        ),
        ("a paid invoice is not chased", [inv(1, 5, "0")], []),
        ("a residual below the tolerance is not chased", [inv(1, 5, "4.99")], []),
        ("a disputed invoice is held", [inv(1, 5, disputed=True)], [("first_reminder", "email", (1,), DISPUTED)]),
        (
            "only the disputed invoice is held",
            [inv(1, 5, disputed=True), inv(2, 5)],
            [("first_reminder", "email", (2,), ""), ("first_reminder", "email", (1,), DISPUTED)],
        ),
        ("a promised invoice is held", [inv(1, 5, promised=True)], [("first_reminder", "email", (1,), PROMISED)]),
        (
            "an open credit note covering the overdue",
            [inv(1, 5, "100"), Item(9, "AV9", AS_OF, D("100"), credit_note=True)],
            [("first_reminder", "email", (1,), COVERED)],
        ),
        (
            "a credit note covering all but a residual",
            [inv(1, 5, "100"), Item(9, "AV9", AS_OF, D("97"), credit_note=True)],
            [("first_reminder", "email", (1,), COVERED)],
        ),
        (
            "a credit note covering part: still chased",
            [inv(1, 5, "100"), Item(9, "AV9", AS_OF, D("50"), credit_note=True)],
            [("first_reminder", "email", (1,), "")],
        ),
    ],
)
def test_decide(label, items, expected):
    assert summary(decide(acct(*items), BOOK, AS_OF)) == expected, label


def test_unapplied_cash_covers_the_overdue():
    actions = decide(acct(inv(1, 5, "100"), unapplied_cash=D("100")), BOOK, AS_OF)
    assert summary(actions) == [("first_reminder", "email", (1,), COVERED)]


def test_several_small_invoices_above_the_tolerance_together_are_chased():
    actions = decide(acct(inv(1, 5, "6"), inv(2, 5, "6")), BOOK, AS_OF)
    assert summary(actions) == [("first_reminder", "email", (1, 2), "")]


def test_cash_leaving_less_than_the_tolerance_is_below_tolerance_not_covered():
    # an invoice of 10 with 6 already paid on account: 4 left, below the tolerance of 5
    actions = decide(acct(inv(1, 5, "10"), unapplied_cash=D("6")), BOOK, AS_OF)
    assert summary(actions) == [("first_reminder", "email", (1,), COVERED)]
    assert summary(decide(acct(inv(1, 5, "10"), inv(2, 5, "0")), BOOK, AS_OF)) == [
        ("first_reminder", "email", (1,), "")
    ]


@pytest.mark.parametrize("reason", [REPLY_PENDING, INSOLVENCY])
def test_a_held_account_is_skipped_with_the_reason(reason):
    actions = decide(acct(inv(1, 5), held=reason), BOOK, AS_OF)
    assert summary(actions) == [("first_reminder", "email", (1,), reason)]


def test_new_levels_are_each_invoices_own_step():
    (action,) = decide(acct(inv(1, 1), inv(2, 9, level=1)), BOOK, AS_OF)
    assert action.levels == {1: STEP_DAYS["first_reminder"], 2: STEP_DAYS["second_reminder"]}
    assert action.amount == D("200") and action.tone == "firm"


def test_a_broken_promise_resumes_at_the_step_now_due():
    held = decide(acct(inv(1, 20, "2000", level=1, promised=True)), BOOK, AS_OF)
    assert summary(held) == [("phone_call", "call", (1,), PROMISED)]
    resumed = decide(acct(inv(1, 20, "2000", level=1)), BOOK, AS_OF)
    assert summary(resumed) == [("phone_call", "call", (1,), "")]


def test_escalation_is_in_order_day_by_day():
    """Run every day from 5 days before the due date to 50 days after: each step once, in order."""
    level, sent = NO_LEVEL, []
    for day in range(-5, 51):
        as_of = AS_OF + dt.timedelta(days=day)
        item = Item(1, "F1", AS_OF, D("2000"), level=level)
        for action in decide(acct(item), BOOK, as_of):
            assert not action.reason
            sent.append((day, action.step))
            level = action.levels[1]
    assert sent == [(d, k) for k, d in STEP_DAYS.items()]


@pytest.mark.parametrize(
    "label, kw, amount, scenario",
    [
        ("ordinary customer", {}, D("100"), "standard"),
        ("strategic customer", {"strategic": True}, D("100"), "strategic"),
        ("high risk class", {"risk_class": "E"}, D("100"), "high_risk"),
        ("defaulting payer", {"payer_profile": "defaulting"}, D("100"), "high_risk"),
        ("strategic wins over risk (first match)", {"strategic": True, "risk_class": "E"}, D("1"), "strategic"),
    ],
)
def test_segments_choose_the_scenario(label, kw, amount, scenario):
    assert choose_scenario(BOOK, acct(**kw), amount).code == scenario, label


def test_strategic_customer_three_days_late_gets_a_friendly_email():
    (action,) = decide(acct(inv(1, 3), strategic=True), BOOK, AS_OF)
    assert (action.scenario, action.step, action.tone) == ("strategic", "first_reminder", "friendly")


def test_segment_amount_and_country_rules():
    text = rulebook.default_text().replace(
        "segments:\n",
        "segments:\n  - name: big UK\n    scenario: strategic\n"
        '    when: {countries: [gb], min_amount: "1000", companies: [fr1]}\n',
    )
    book = rulebook.parse(text)
    big = Account(1, 1, "EUR", (inv(1, 3, "1500"),), company_code="FR1", country="GB")
    assert choose_scenario(book, big, D("1500")).code == "strategic"
    assert choose_scenario(book, big, D("999")).code == "standard"
