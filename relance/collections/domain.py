"""Which dunning step is due, for whom, by which channel: pure decisions (no ORM, no clock).

The cycle gives :func:`decide` one :class:`Account` (a customer's open documents in one currency, with
what is held back) and the rulebook (scenarios and segments), and gets back the :class:`Action` list:
one communication per channel, and the skipped ones with their reason.

Rules (docs/collections.md):

* A step is due for an invoice when ``as_of - due_date >= step.day`` and its conditions hold (minimum
  amount over the invoices at least that late, risk classes). The step taken is the **latest** step now
  due ("catch-up sends only the step now due"), provided it is later than the last step already taken for
  that invoice: levels are remembered as the step's day offset, so escalation never goes back, even when
  the customer moves to another scenario.
* Invoices in an open dispute or covered by an open promise are held (``disputed`` / ``promised``);
  they resume where they were once the dispute is resolved or the promise broken.
* Invoices whose open amount is below the tolerance are residuals: never chased.
* When unapplied cash and open credit notes cover what would be chased (to within the tolerance), or
  what is left is below the tolerance, nothing is sent (``covered`` / ``below_tolerance``).
* An account can be held as a whole (``insolvency``: proceedings are open against the customer's legal
  entity, so claims go to the court-appointed representative, never to the customer; ``reply_pending``: the
  customer answered and nobody handled it yet; ``stale_data``: the company's ledger is too old to chase anyone).
* The invoices due for a step are grouped into one communication per channel (the customer and the
  currency are fixed by the account); the communication takes the latest step among them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

CHANNELS = ("email", "letter", "sms", "call", "formal_notice", "litigation", "agency")
TONES = ("friendly", "neutral", "firm", "formal")
NO_LEVEL = -10_000  # the level of an invoice no step was taken for (below any step's day)

# Reasons an action is skipped (public vocabulary: the JSON output of `relance cycle`).
DISPUTED = "disputed"
PROMISED = "promised"
COVERED = "covered"
BELOW_TOLERANCE = "below_tolerance"
REPLY_PENDING = "reply_pending"
STALE_DATA = "stale_data"
NO_ADDRESS = "no_address"
INSOLVENCY = "insolvency"
REASONS = (DISPUTED, PROMISED, COVERED, BELOW_TOLERANCE, REPLY_PENDING, STALE_DATA, NO_ADDRESS, INSOLVENCY)


@dataclass(frozen=True)
class Step:
    key: str
    day: int
    channel: str
    min_amount: Decimal = Decimal(0)
    risk_classes: frozenset[str] = frozenset()  # empty: any class
    template: str = ""  # empty: the channel's default template
    tone: str = "neutral"

    @property
    def template_name(self) -> str:
        return self.template or self.channel


@dataclass(frozen=True)
class Scenario:
    code: str
    name: str
    steps: tuple[Step, ...]
    tolerance: Decimal = Decimal("5")


@dataclass(frozen=True)
class Segment:
    """Rules that send an account to a scenario; an empty rule matches anything."""

    name: str
    scenario: str
    risk_classes: frozenset[str] = frozenset()
    payer_profiles: frozenset[str] = frozenset()
    strategic: bool | None = None
    companies: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None


@dataclass(frozen=True)
class Rulebook:
    scenarios: dict[str, Scenario]
    segments: tuple[Segment, ...]
    default_scenario: str
    version: int = 0


@dataclass(frozen=True)
class Item:
    """An open document of the account. ``level`` is the day offset of the last step taken for it."""

    id: int
    number: str
    due_date: dt.date
    open_amount: Decimal
    credit_note: bool = False
    level: int = NO_LEVEL
    disputed: bool = False
    promised: bool = False


@dataclass(frozen=True)
class Account:
    customer_id: int
    company_id: int
    currency: str
    items: tuple[Item, ...]
    company_code: str = ""
    customer_ref: str = ""
    risk_class: str = ""
    payer_profile: str = ""
    strategic: bool = False
    country: str = ""
    unapplied_cash: Decimal = Decimal(0)
    held: str = ""  # a reason that holds the whole account (insolvency, reply_pending, stale_data, promised)


@dataclass(frozen=True)
class Action:
    customer_id: int
    company_id: int
    currency: str
    scenario: str
    step: str
    step_day: int
    channel: str
    documents: tuple[int, ...]
    amount: Decimal
    tone: str = "neutral"
    template: str = ""
    reason: str = ""  # empty: to do; else why it is skipped
    levels: dict[int, int] = field(default_factory=dict, compare=False)  # document id -> its new level

    @property
    def skipped(self) -> bool:
        return bool(self.reason)


def overdue_total(account: Account, as_of: dt.date) -> Decimal:
    return sum((i.open_amount for i in account.items if not i.credit_note and i.due_date < as_of), Decimal(0))


def choose_scenario(book: Rulebook, account: Account, amount: Decimal) -> Scenario:
    """The scenario of the first segment whose rules all hold, else the default scenario."""
    for seg in book.segments:
        if seg.risk_classes and account.risk_class not in seg.risk_classes:
            continue
        if seg.payer_profiles and account.payer_profile not in seg.payer_profiles:
            continue
        if seg.strategic is not None and seg.strategic != account.strategic:
            continue
        if seg.companies and account.company_code not in seg.companies:
            continue
        if seg.countries and account.country not in seg.countries:
            continue
        if seg.min_amount is not None and amount < seg.min_amount:
            continue
        if seg.max_amount is not None and amount > seg.max_amount:
            continue
        return book.scenarios[seg.scenario]
    return book.scenarios[book.default_scenario]


def _late_amounts(items: Sequence[Item], steps: Sequence[Step], as_of: dt.date) -> dict[int, Decimal]:
    """For each step's day: the open amount of the chaseable invoices at least that late."""
    out: dict[int, Decimal] = {}
    for step in steps:
        out[step.day] = sum((i.open_amount for i in items if (as_of - i.due_date).days >= step.day), Decimal(0))
    return out


def step_due(
    item: Item, steps: Sequence[Step], as_of: dt.date, risk_class: str, late: dict[int, Decimal]
) -> Step | None:
    """The latest step now due for ``item`` and later than its level, or None."""
    days = (as_of - item.due_date).days
    for step in reversed(steps):
        if step.day > days or step.day <= item.level:
            continue
        if step.risk_classes and risk_class not in step.risk_classes:
            continue
        if late.get(step.day, Decimal(0)) < step.min_amount:
            continue
        return step
    return None


def decide(account: Account, book: Rulebook, as_of: dt.date) -> list[Action]:
    """The actions for one account on ``as_of``: communications to make, then the skipped ones."""
    scenario = choose_scenario(book, account, overdue_total(account, as_of))
    tolerance = scenario.tolerance
    invoices = [i for i in account.items if not i.credit_note and i.open_amount >= tolerance]
    chaseable = [i for i in invoices if not i.disputed and not i.promised]
    late = _late_amounts(chaseable, scenario.steps, as_of)
    late_all = _late_amounts(invoices, scenario.steps, as_of)  # for held invoices: the step they would get
    due: list[tuple[Item, Step]] = []
    for item in invoices:
        held = item.disputed or item.promised
        step = step_due(item, scenario.steps, as_of, account.risk_class, late_all if held else late)
        if step is not None:
            due.append((item, step))
    if not due:
        return []

    def action(pairs: list[tuple[Item, Step]], reason: str = "") -> Action:
        top = max((s for _, s in pairs), key=lambda s: s.day)
        return Action(
            customer_id=account.customer_id,
            company_id=account.company_id,
            currency=account.currency,
            scenario=scenario.code,
            step=top.key,
            step_day=top.day,
            channel=top.channel,
            documents=tuple(sorted(i.id for i, _ in pairs)),
            amount=sum((i.open_amount for i, _ in pairs), Decimal(0)),
            tone=top.tone,
            template=top.template_name,
            reason=reason,
            levels={i.id: s.day for i, s in pairs},
        )

    skipped: list[Action] = []
    for reason, pick in ((DISPUTED, lambda i: i.disputed), (PROMISED, lambda i: i.promised and not i.disputed)):
        held = [(i, s) for i, s in due if pick(i)]
        if held:
            skipped.append(action(held, reason))
    todo = [(i, s) for i, s in due if not i.disputed and not i.promised]
    if not todo:
        return skipped
    if account.held:
        return [action(todo, account.held), *skipped]
    # What would be chased: the chaseable invoices already due or due for a step now.
    todo_ids = {i.id for i, _ in todo}
    exposure = sum((i.open_amount for i in chaseable if i.id in todo_ids or i.due_date < as_of), Decimal(0))
    credits = account.unapplied_cash + sum(
        (i.open_amount for i in account.items if i.credit_note and not i.disputed), Decimal(0)
    )
    if exposure - credits < tolerance:
        return [action(todo, COVERED if credits > 0 else BELOW_TOLERANCE), *skipped]
    by_channel: dict[str, list[tuple[Item, Step]]] = {}
    for pair in sorted(todo, key=lambda p: (p[1].day, p[0].due_date, p[0].id)):
        by_channel.setdefault(pair[1].channel, []).append(pair)
    actions = [action(pairs) for pairs in by_channel.values()]
    actions.sort(key=lambda a: (a.step_day, CHANNELS.index(a.channel) if a.channel in CHANNELS else 99))
    return [*actions, *skipped]


def decide_all(accounts: Iterable[Account], book: Rulebook, as_of: dt.date) -> list[Action]:
    out: list[Action] = []
    for account in accounts:
        out.extend(decide(account, book, as_of))
    return out


# --- the worklist: who to call first ---------------------------------------------------------------

# Probability that an overdue balance is paid, by risk class (when no prediction is available).
P_PAY = {
    "A": Decimal("0.95"),
    "B": Decimal("0.90"),
    "C": Decimal("0.80"),
    "D": Decimal("0.60"),
    "E": Decimal("0.40"),
    "X": Decimal("0.10"),
    "": Decimal("0.75"),
}
AGE_FULL = 60  # days late after which a balance counts in full


@dataclass(frozen=True)
class WorkItem:
    customer_id: int
    currency: str
    overdue: Decimal  # open amount of the invoices past due (in dispute or promised excluded)
    oldest_days: int  # days late of the oldest of them
    risk_class: str = ""
    p_pay: Decimal | None = None  # a predicted probability of payment, if any
    weight: Decimal = Decimal(1)  # to compare currencies: the amount's value in the reference currency per unit


@dataclass(frozen=True)
class Ranked:
    item: WorkItem
    gain: Decimal  # in the reference currency
    probability: Decimal
    age_factor: Decimal


def expected_gain(item: WorkItem) -> Ranked:
    """What a collector's attention is expected to bring in: overdue × probability of payment × age factor.

    The age factor (days late / 60, at most 1) puts old balances first while a fresh one may still come in by
    itself. Pure; the reason shown beside the rank is built from the same figures.
    """
    p = item.p_pay if item.p_pay is not None else P_PAY.get(item.risk_class, P_PAY[""])
    age = Decimal(min(max(item.oldest_days, 0), AGE_FULL)) / Decimal(AGE_FULL)
    return Ranked(item=item, gain=item.overdue * item.weight * p * age, probability=p, age_factor=age)


def rank(items: Iterable[WorkItem]) -> list[Ranked]:
    """Highest expected gain first; ties by amount, then age, then customer id (a stable order)."""
    ranked = [expected_gain(i) for i in items]
    ranked.sort(key=lambda r: (-r.gain, -r.item.overdue * r.item.weight, -r.item.oldest_days, r.item.customer_id))
    return ranked
