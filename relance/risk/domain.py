"""Scoring a customer account (pure: values in, values out, ``as_of`` explicit; no ORM, no clock).

The score runs from 0 (worst) to 100 (best) and combines, with the weights of the group's settings
(:mod:`relance.risk.config`, documented in docs/risk.md):

* **payment behaviour** from our ledger (:func:`behaviour_score`): days beyond terms weighted by amount and
  recency, the share of invoices paid late, the drift of the delay, broken promises, open disputes, the
  current overdue balance. With few settled invoices it is blended with the baseline (confidence).
* **financial statements** (:func:`financial_score`): the Altman Z'' score for private and non-manufacturing
  companies, mapped to 0-100; negative equity caps it.
* **external scores** (:func:`external_score`): the mean of each provider's latest score (already 0-100).
* the **sector and size baseline** (:func:`baseline`) stands in when nothing else is known.

A source that is missing (or too old) drops out and its weight is shared among the others. **Legal events**
act after the weighting: opened proceedings give class ``X`` (score 0); a registered payment incident takes
points off and caps the class; a plan being carried out caps the class.

Reasons are codes with parameters (rendered in the reader's language by :mod:`relance.risk.reasons`), sorted
by the points they cost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .config import CLASSES, dec

ZERO = Decimal(0)
HUNDRED = Decimal(100)
X = "X"
OPENING = ("safeguard", "receivership", "liquidation")


# --- inputs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettledItem:
    """A settled invoice: its amount, due date and the date it was fully paid."""

    amount: Decimal
    due_date: dt.date
    settled_on: dt.date


@dataclass(frozen=True)
class OpenItem:
    """An open invoice: its open amount and due date."""

    amount: Decimal
    due_date: dt.date


@dataclass(frozen=True)
class WindowStats:
    """Settled invoices of one window: count, count paid late, sum and sum of squares of the days late
    (settlement date minus due date; negative when paid early)."""

    n: int = 0
    late: int = 0
    sum_days: Decimal = ZERO
    sum_days2: Decimal = ZERO

    @property
    def mean(self) -> Decimal | None:
        return self.sum_days / self.n if self.n else None

    def variance(self) -> Decimal | None:
        """Sample variance (n - 1), None below two observations."""
        if self.n < 2:
            return None
        value = (self.sum_days2 - self.sum_days * self.sum_days / self.n) / (self.n - 1)
        return max(value, ZERO)


@dataclass(frozen=True)
class BehaviourStats:
    """What the behaviour score needs: set-based aggregates (see risk.queries for the SQL twin)."""

    weight: Decimal = ZERO  # sum of amount x recency weight over settled invoices
    weighted_days: Decimal = ZERO  # sum of amount x recency weight x max(0, days late)
    recent: WindowStats = field(default_factory=WindowStats)
    prior: WindowStats = field(default_factory=WindowStats)
    open_amount: Decimal = ZERO
    overdue_amount: Decimal = ZERO
    oldest_overdue_days: int = 0
    broken_promises: int = 0
    open_disputes: int = 0

    @property
    def settled_count(self) -> int:
        return self.recent.n + self.prior.n

    @property
    def average_days_beyond_terms(self) -> Decimal | None:
        return self.weighted_days / self.weight if self.weight > 0 else None


@dataclass(frozen=True)
class Financials:
    fiscal_year_end: dt.date
    total_assets: Decimal
    total_liabilities: Decimal
    equity: Decimal
    working_capital: Decimal
    retained_earnings: Decimal
    ebit: Decimal
    sales: Decimal
    cash: Decimal = ZERO


@dataclass(frozen=True)
class LegalEventIn:
    kind: str
    published_on: dt.date
    judgment_date: dt.date | None = None


@dataclass(frozen=True)
class ExternalScoreIn:
    provider: str
    score: int
    as_of: dt.date


@dataclass(frozen=True)
class ScoreInput:
    behaviour: BehaviourStats = field(default_factory=BehaviourStats)
    financials: Financials | None = None
    legal_events: tuple[LegalEventIn, ...] = ()
    external: tuple[ExternalScoreIn, ...] = ()
    sector_code: str = ""
    size: str = ""


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    impact: Decimal = ZERO  # points of the final score it cost (negative: a strength)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params}


@dataclass(frozen=True)
class Component:
    name: str
    score: Decimal
    weight: Decimal
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True)
class LegalStatus:
    insolvent: bool = False
    kind: str = ""
    since: dt.date | None = None
    published_on: dt.date | None = None
    plan: bool = False
    incidents: int = 0


@dataclass(frozen=True)
class ScoreResult:
    score: int
    risk_class: str
    reasons: tuple[Reason, ...]
    components: dict[str, Any]
    legal: LegalStatus

    @property
    def insolvent(self) -> bool:
        return self.risk_class == X


# --- helpers ------------------------------------------------------------------------------------------------


def clamp(value: Decimal, low: Decimal = ZERO, high: Decimal = HUNDRED) -> Decimal:
    return max(low, min(high, value))


def class_rank(risk_class: str) -> int:
    """0 for A ... 4 for E, 5 for X; unknown (not scored) is -1."""
    return (*CLASSES, X).index(risk_class) if risk_class in (*CLASSES, X) else -1


def worse(a: str, b: str) -> str:
    return a if class_rank(a) >= class_rank(b) else b


def class_for(score: Decimal | int, cfg: dict[str, Any]) -> str:
    for name in ("A", "B", "C", "D"):
        if Decimal(score) >= dec(cfg["classes"][name]):
            return name
    return "E"


def recency_weight(age_days: int, cfg: dict[str, Any]) -> Decimal:
    """The weight of a settlement ``age_days`` old (first bound it is below); 0 beyond the last."""
    for bound, weight in sorted(((int(k), v) for k, v in cfg["behaviour"]["recency_weights"].items())):
        if age_days < bound:
            return dec(weight)
    return ZERO


def stats_from_items(
    settled: Iterable[SettledItem],
    open_items: Iterable[OpenItem],
    *,
    as_of: dt.date,
    cfg: dict[str, Any],
    broken_promises: int = 0,
    open_disputes: int = 0,
) -> BehaviourStats:
    """The behaviour aggregates from item lists (the reference the SQL of risk.queries must match)."""
    b = cfg["behaviour"]
    lookback, recent_days, grace = int(b["lookback_days"]), int(b["recent_days"]), int(b["grace_days"])
    weight = weighted = ZERO
    windows = {"recent": [0, 0, ZERO, ZERO], "prior": [0, 0, ZERO, ZERO]}
    for item in settled:
        age = (as_of - item.settled_on).days
        if age < 0 or age >= lookback:
            continue
        days = (item.settled_on - item.due_date).days
        w = recency_weight(age, cfg)
        weight += item.amount * w
        weighted += item.amount * w * max(days, 0)
        acc = windows["recent" if age < recent_days else "prior"]
        acc[0] += 1
        acc[1] += 1 if days > grace else 0
        acc[2] += days
        acc[3] += days * days
    open_amount = overdue = ZERO
    oldest = 0
    for item in open_items:
        open_amount += item.amount
        if item.due_date < as_of:
            overdue += item.amount
            oldest = max(oldest, (as_of - item.due_date).days)
    return BehaviourStats(
        weight=weight,
        weighted_days=weighted,
        recent=WindowStats(*windows["recent"]),
        prior=WindowStats(*windows["prior"]),
        open_amount=open_amount,
        overdue_amount=overdue,
        oldest_overdue_days=oldest,
        broken_promises=broken_promises,
        open_disputes=open_disputes,
    )


def _r(value: Decimal, places: str = "1") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


# --- sources ------------------------------------------------------------------------------------------------


def behaviour_score(stats: BehaviourStats, cfg: dict[str, Any]) -> tuple[Decimal, Decimal, list[Reason]] | None:
    """(score 0-100, confidence 0-1, reasons with their raw penalty), or None without any history."""
    b = cfg["behaviour"]
    n = stats.settled_count
    if n == 0 and stats.open_amount <= 0:
        return None
    reasons: list[Reason] = []
    penalty = ZERO
    adbt = stats.average_days_beyond_terms
    if adbt is not None:
        p = min(dec(b["dbt_max_penalty"]), adbt * dec(b["dbt_points_per_day"]))
        penalty += p
        if p >= 1:
            reasons.append(Reason("dbt", {"days": int(_r(adbt, "1"))}, p))
        elif n >= 3:
            reasons.append(Reason("on_time", {"count": n}, -dec(5)))
    if n:
        late_share = Decimal(stats.recent.late + stats.prior.late) / n
        p = late_share * dec(b["late_share_penalty"])
        penalty += p
        if p >= 1:
            reasons.append(Reason("late_share", {"percent": int(_r(late_share * 100))}, p))
    recent, prior = stats.recent.mean, stats.prior.mean
    if recent is not None and prior is not None and stats.recent.n >= 2 and stats.prior.n >= 2 and recent > prior:
        p = min(dec(b["drift_max_penalty"]), (recent - prior) * dec(b["drift_points_per_day"]))
        penalty += p
        if p >= 1:
            reasons.append(Reason("drift", {"recent": int(_r(recent)), "prior": int(_r(prior))}, p))
    if stats.broken_promises:
        p = min(dec(b["broken_promise_max_penalty"]), stats.broken_promises * dec(b["broken_promise_penalty"]))
        penalty += p
        reasons.append(Reason("broken_promises", {"count": stats.broken_promises}, p))
    if stats.open_disputes:
        p = min(dec(b["dispute_max_penalty"]), stats.open_disputes * dec(b["dispute_penalty"]))
        penalty += p
        reasons.append(Reason("disputes", {"count": stats.open_disputes}, p))
    if stats.overdue_amount > 0 and stats.open_amount > 0:
        share = min(Decimal(1), stats.overdue_amount / stats.open_amount)
        age_points = max(0, stats.oldest_overdue_days - int(b["overdue_free_days"])) / dec(b["overdue_days_per_point"])
        p = min(dec(b["overdue_max_penalty"]), share * dec(b["overdue_share_penalty"]) + age_points)
        penalty += p
        if p >= 1:
            params = {"percent": int(_r(share * 100)), "days": stats.oldest_overdue_days}
            reasons.append(Reason("overdue", params, p))
    confidence = min(Decimal(1), Decimal(n) / dec(b["full_confidence_invoices"]))
    if n == 0:
        confidence = Decimal("0.5")  # open items only: what is overdue still tells something
    if confidence < 1:
        reasons.append(Reason("thin_history", {"count": n}, ZERO))
    return clamp(HUNDRED - penalty), confidence, reasons


def altman_z2(f: Financials) -> Decimal:
    """Altman Z'' (private, non-manufacturing): 6.56 X1 + 3.26 X2 + 6.72 X3 + 1.05 X4.

    X1 working capital / total assets, X2 retained earnings / total assets, X3 EBIT / total assets,
    X4 book equity / total liabilities (a company without liabilities gets X4 = 10).
    """
    ta = f.total_assets
    x4 = f.equity / f.total_liabilities if f.total_liabilities > 0 else Decimal(10)
    return (
        Decimal("6.56") * f.working_capital / ta
        + Decimal("3.26") * f.retained_earnings / ta
        + Decimal("6.72") * f.ebit / ta
        + Decimal("1.05") * x4
    )


# (Z'', score) knots: below 1.1 is the distress zone, 1.1-2.6 grey, above 2.6 safe.
Z_KNOTS = ((Decimal(-1), ZERO), (Decimal("1.1"), Decimal(35)), (Decimal("2.6"), Decimal(70)), (Decimal(5), HUNDRED))


def z_to_score(z: Decimal) -> Decimal:
    """Piecewise-linear map of Z'' to 0-100 through :data:`Z_KNOTS`."""
    if z <= Z_KNOTS[0][0]:
        return ZERO
    for (z0, s0), (z1, s1) in zip(Z_KNOTS, Z_KNOTS[1:], strict=False):
        if z <= z1:
            return s0 + (s1 - s0) * (z - z0) / (z1 - z0)
    return HUNDRED


def ratios(f: Financials) -> dict[str, Decimal | None]:
    """Key ratios shown beside the score (None when the denominator is zero)."""

    def div(a: Decimal, b: Decimal) -> Decimal | None:
        return _r(a / b, "0.001") if b else None

    return {
        "equity_ratio": div(f.equity, f.total_assets),
        "debt_ratio": div(f.total_liabilities, f.total_assets),
        "working_capital_ratio": div(f.working_capital, f.total_assets),
        "ebit_margin": div(f.ebit, f.sales),
        "cash_ratio": div(f.cash, f.total_liabilities),
    }


def months_between(earlier: dt.date, later: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (1 if later.day < earlier.day else 0)


def financial_score(
    f: Financials | None, *, as_of: dt.date, cfg: dict[str, Any]
) -> tuple[Decimal, list[Reason], Decimal] | None:
    """(score, reasons, Z'') from the latest statement, or None when missing or older than the setting."""
    if f is None or f.total_assets <= 0 or f.fiscal_year_end > as_of:
        return None
    if months_between(f.fiscal_year_end, as_of) > int(cfg["financials"]["max_age_months"]):
        return None
    z = altman_z2(f)
    score = z_to_score(z)
    reasons: list[Reason] = []
    shown = str(_r(z, "0.01"))
    if f.equity < 0:
        score = min(score, dec(cfg["financials"]["negative_equity_cap"]))
        reasons.append(Reason("negative_equity", {"year": f.fiscal_year_end.year}, HUNDRED - score))
    if z < Z_KNOTS[1][0]:
        reasons.append(Reason("z_distress", {"z": shown, "year": f.fiscal_year_end.year}, HUNDRED - score))
    elif z < Z_KNOTS[2][0]:
        reasons.append(Reason("z_grey", {"z": shown, "year": f.fiscal_year_end.year}, HUNDRED - score))
    else:
        reasons.append(Reason("z_safe", {"z": shown, "year": f.fiscal_year_end.year}, -(score - 60)))
    return score, reasons, z


def external_score(
    scores: Sequence[ExternalScoreIn], *, as_of: dt.date, cfg: dict[str, Any]
) -> tuple[Decimal, list[Reason]] | None:
    """Mean of each provider's latest score no older than the setting, or None."""
    max_age = int(cfg["external"]["max_age_days"])
    latest: dict[str, ExternalScoreIn] = {}
    for s in scores:
        if s.as_of > as_of or (as_of - s.as_of).days > max_age:
            continue
        if s.provider not in latest or s.as_of > latest[s.provider].as_of:
            latest[s.provider] = s
    if not latest:
        return None
    value = Decimal(sum(s.score for s in latest.values())) / len(latest)
    providers = ", ".join(sorted(latest))
    code = "external_low" if value < 50 else "external_good" if value >= 70 else "external_mid"
    impact = HUNDRED - value if code != "external_good" else -(value - 60)
    return value, [Reason(code, {"score": int(_r(value)), "providers": providers}, impact)]


def legal_status(events: Iterable[LegalEventIn], *, as_of: dt.date, cfg: dict[str, Any]) -> LegalStatus:
    """Replay the legal events in publication order: proceedings open, a plan is adopted, proceedings close."""
    insolvent, kind, since, published, plan = False, "", None, None, False
    window = int(cfg["legal"]["incident_window_days"])
    incidents = 0
    for e in sorted(events, key=lambda e: (e.published_on, OPENING.index(e.kind) if e.kind in OPENING else -1)):
        if e.published_on > as_of:
            continue
        if e.kind in OPENING:
            insolvent, kind, plan = True, e.kind, False
            since, published = e.judgment_date or e.published_on, e.published_on
        elif e.kind == "plan":
            insolvent, plan = False, True
        elif e.kind == "closure":
            insolvent, plan, kind = False, False, ""
        elif e.kind == "payment_incident" and (as_of - e.published_on).days < window:
            incidents += 1
    return LegalStatus(
        insolvent,
        kind if insolvent else "",
        since if insolvent else None,
        published if insolvent else None,
        plan,
        incidents,
    )


def baseline(sector_code: str, size: str, cfg: dict[str, Any]) -> Decimal:
    """The score of an unknown company of this size and sector (two-digit NAF division adjustments)."""
    base = cfg["baseline"]
    value = dec(base["by_size"].get(size, base["default"]))
    adjust = base["by_sector"].get((sector_code or "")[:2])
    if adjust is not None:
        value += dec(adjust)
    return clamp(value)


# --- the score ----------------------------------------------------------------------------------------------


def score(data: ScoreInput, *, as_of: dt.date, cfg: dict[str, Any]) -> ScoreResult:
    """The customer's score, class and reasons on ``as_of``."""
    legal = legal_status(data.legal_events, as_of=as_of, cfg=cfg)
    if legal.insolvent:
        reason = Reason("insolvency", {"kind": legal.kind, "since": legal.since.isoformat()}, HUNDRED)
        return ScoreResult(0, X, (reason,), {"legal": {"insolvent": True, "kind": legal.kind}}, legal)
    weights = cfg["weights"]
    base = baseline(data.sector_code, data.size, cfg)
    components: list[Component] = []
    behaviour = behaviour_score(data.behaviour, cfg)
    if behaviour is not None and dec(weights["behaviour"]) > 0:
        value, confidence, reasons = behaviour
        blended = confidence * value + (1 - confidence) * base
        scaled = tuple(Reason(r.code, r.params, r.impact * confidence) for r in reasons)
        components.append(Component("behaviour", blended, dec(weights["behaviour"]), scaled))
    financial = financial_score(data.financials, as_of=as_of, cfg=cfg)
    if financial is not None and dec(weights["financials"]) > 0:
        components.append(Component("financials", financial[0], dec(weights["financials"]), tuple(financial[1])))
    external = external_score(data.external, as_of=as_of, cfg=cfg)
    if external is not None and dec(weights["external"]) > 0:
        components.append(Component("external", external[0], dec(weights["external"]), tuple(external[1])))
    reasons: list[Reason] = []
    if components:
        total_weight = sum(c.weight for c in components)
        value = sum(c.score * c.weight for c in components) / total_weight
        for c in components:
            share = c.weight / total_weight
            reasons.extend(Reason(r.code, r.params, r.impact * share) for r in c.reasons)
    else:
        value = base
        reasons.append(Reason("baseline", {"score": int(_r(base))}, ZERO))
    if legal.incidents:
        p = legal.incidents * dec(cfg["legal"]["incident_penalty"])
        value -= p
        reasons.append(Reason("payment_incident", {"count": legal.incidents}, p))
    final = int(_r(clamp(value)))
    risk_class = class_for(final, cfg)
    if legal.incidents:
        risk_class = worse(risk_class, cfg["legal"]["incident_class_cap"])
    if legal.plan:
        risk_class = worse(risk_class, cfg["legal"]["plan_class_cap"])
        reasons.append(Reason("plan", {}, dec(30)))
    detail = {
        "baseline": str(_r(base)),
        "sources": {c.name: {"score": str(_r(c.score)), "weight": str(c.weight)} for c in components},
    }
    return ScoreResult(final, risk_class, top_reasons(reasons), detail, legal)


def top_reasons(reasons: Sequence[Reason], limit: int = 4) -> tuple[Reason, ...]:
    """The weaknesses that cost at least half a point, worst first; then strengths and notes to reach two."""
    weak = sorted((r for r in reasons if r.impact >= Decimal("0.5")), key=lambda r: -r.impact)[:limit]
    if len(weak) >= 2:
        return tuple(weak)
    rest = sorted((r for r in reasons if r.impact < Decimal("0.5")), key=lambda r: r.impact)
    return tuple(weak + rest[: max(0, 2 - len(weak))])
