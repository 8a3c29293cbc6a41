"""Training examples, gradient-boosting models, predictions and explanations (no ORM, no clock).

One ``Learner`` per company holds four scikit-learn ``HistGradientBoosting`` models trained on the company's
settled invoices:

* a regressor of the days late (absolute-error loss: it aims at the median, which is what MAE rewards);
* two quantile regressors (10% and 90%): the 80% interval;
* a classifier of "paid more than ``late_days`` days late".

Each settled invoice gives a training example as of its issue date, and, to learn how an invoice that is still
open later in its life behaves, more examples as of its due date and 30 and 60 days after it, when it was still
unpaid then (features as of those dates: days past due, reminders and disputes so far).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# imported here, not lazily: threadpool_limits only limits the OpenMP runtime of modules already loaded
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from .domain import Estimate
from .features import (
    DEFAULT_LATE_DAYS,
    FEATURE_NAMES,
    CustomerHistory,
    InvoiceFacts,
    as_row,
    invoice_features,
)

SNAPSHOT_OFFSETS = (0, 30, 60)  # days after the due date for the extra "still open" examples
MIN_TRAIN = 100  # fewer settled invoices: no model, the fallback ladder is used
SEED = 0
# OpenMP threads for scikit-learn: one. On a shared or busy machine more threads than free cores make
# gradient boosting ten times slower (spinning threads), and the daily job runs beside the web server.
THREADS = 1
# Gradient-boosting settings shared by the four models (small trees, a moderate learning rate).
BOOSTING = {"learning_rate": 0.08, "max_leaf_nodes": 15, "min_samples_leaf": 20, "l2_regularization": 0.0}


@dataclass(frozen=True, slots=True)
class Example:
    customer: int | str
    invoice: InvoiceFacts
    as_of: dt.date
    row: tuple[float, ...]


def snapshot_dates(inv: InvoiceFacts, *, later: bool) -> list[dt.date]:
    """As-of dates of the training examples of a settled invoice (issue date, then while still unpaid)."""
    dates = [inv.issue_date]
    if later and inv.settled_on is not None:
        for offset in SNAPSHOT_OFFSETS:
            day = inv.due_date + dt.timedelta(days=offset)
            if inv.issue_date < day < inv.settled_on and day not in dates:
                dates.append(day)
    return dates


def build_examples(
    history: dict[int | str, list[InvoiceFacts]],
    *,
    late_days: int = DEFAULT_LATE_DAYS,
    later: bool = True,
    keys: set[int | str] | None = None,
) -> list[Example]:
    """Examples for the settled invoices of ``history`` (only those in ``keys`` when given)."""
    out: list[Example] = []
    for customer, invoices in history.items():
        arrays = CustomerHistory(invoices)
        for inv in invoices:
            if inv.settled_on is None or (keys is not None and inv.key not in keys):
                continue
            for as_of in snapshot_dates(inv, later=later):
                cust = arrays.features(as_of, exclude=inv.key, late_days=late_days)
                feats = invoice_features(inv, (), as_of, late_days=late_days, customer=cust)
                out.append(Example(customer, inv, as_of, tuple(as_row(feats))))
    return out


def matrix(rows: Iterable[Sequence[float]]) -> np.ndarray:
    return np.asarray(list(rows), dtype=float).reshape(-1, len(FEATURE_NAMES))


@dataclass
class Learner:
    """The fitted models of one company and what they need to predict and explain."""

    late_days: int
    trained_on: dt.date
    n_train: int
    reference: dict[str, float]  # median of each feature in the training data (explanations)
    delays: list[float] = field(default_factory=list)  # training targets, for baselines
    regressor: object = None
    low: object = None
    high: object = None
    classifier: object = None  # None when the training data had a single class
    constant_prob: float = 0.0

    def estimates(self, x: np.ndarray) -> list[Estimate]:
        """Estimates for the rows of ``x`` (days late, interval, probability of late)."""
        if len(x) == 0:
            return []
        with threadpool_limits(THREADS):
            return self._estimates(x)

    def _estimates(self, x: np.ndarray) -> list[Estimate]:
        mid = self.regressor.predict(x)  # type: ignore[attr-defined]
        lo = self.low.predict(x)  # type: ignore[attr-defined]
        hi = self.high.predict(x)  # type: ignore[attr-defined]
        if self.classifier is not None:
            prob = self.classifier.predict_proba(x)[:, 1]  # type: ignore[attr-defined]
        else:
            prob = np.full(len(x), self.constant_prob)
        return [
            Estimate(float(m), float(min(lw, m)), float(max(h, m)), float(p))
            for m, lw, h, p in zip(mid, lo, hi, prob, strict=True)
        ]

    def explain(self, x: np.ndarray, top: int = 3) -> list[list[dict[str, float | str]]]:
        """For each row, the features whose value moves the expected delay most, compared with the usual value.

        Each feature in turn is set to its training median (the other features unchanged); the difference of the
        predicted delay is that feature's contribution. The ``top`` ones pushing the delay up come first.
        """
        if len(x) == 0:
            return []
        with threadpool_limits(THREADS):
            return self._explain(x, top)

    def _explain(self, x: np.ndarray, top: int) -> list[list[dict[str, float | str]]]:
        base = self.regressor.predict(x)  # type: ignore[attr-defined]
        names = list(FEATURE_NAMES)
        effects = np.zeros((len(x), len(names)))
        for j, name in enumerate(names):
            changed = x.copy()
            changed[:, j] = self.reference[name]
            effects[:, j] = base - self.regressor.predict(changed)  # type: ignore[attr-defined]
        out = []
        for i in range(len(x)):
            order = np.argsort(-np.abs(effects[i]))
            reasons = []
            for j in order[:top]:
                if abs(effects[i, j]) < 0.5:
                    break
                reasons.append(
                    {
                        "feature": names[j],
                        "value": round(float(x[i, j]), 2),
                        "reference": round(float(self.reference[names[j]]), 2),
                        "days": round(float(effects[i, j]), 1),
                    }
                )
            out.append(reasons)
        return out


def fit(examples: Sequence[Example], *, late_days: int, trained_on: dt.date, max_iter: int = 200) -> Learner:
    """Fit the four models on ``examples`` (raises ValueError when there are fewer than two)."""
    with threadpool_limits(THREADS):
        return _fit(examples, late_days=late_days, trained_on=trained_on, max_iter=max_iter)


def _fit(examples: Sequence[Example], *, late_days: int, trained_on: dt.date, max_iter: int) -> Learner:
    if len(examples) < 2:
        raise ValueError("at least two settled invoices are needed to train")
    x = matrix(e.row for e in examples)
    y = np.asarray([float(e.invoice.delay) for e in examples])  # type: ignore[arg-type]
    common = {"max_iter": max_iter, "random_state": SEED, "early_stopping": False, **BOOSTING}
    if len(x) < 200:
        common["min_samples_leaf"] = max(2, len(x) // 20)
    regressor = HistGradientBoostingRegressor(loss="absolute_error", **common).fit(x, y)
    low = HistGradientBoostingRegressor(loss="quantile", quantile=0.1, **common).fit(x, y)
    high = HistGradientBoostingRegressor(loss="quantile", quantile=0.9, **common).fit(x, y)
    late = (y > late_days).astype(int)
    classifier = None
    if 0 < late.sum() < len(late):
        classifier = HistGradientBoostingClassifier(**common).fit(x, late)
    reference = {name: float(np.median(x[:, j])) for j, name in enumerate(FEATURE_NAMES)}
    first = [float(e.invoice.delay) for e in examples if e.as_of == e.invoice.issue_date]  # type: ignore[arg-type]
    return Learner(
        late_days=late_days,
        trained_on=trained_on,
        n_train=len({e.invoice.key for e in examples}),
        reference=reference,
        delays=first,
        regressor=regressor,
        low=low,
        high=high,
        classifier=classifier,
        constant_prob=float(late.mean()) if len(late) else 0.0,
    )
