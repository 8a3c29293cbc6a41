"""Time-split evaluation of the model against two baselines (no ORM: the ledger and CSV files both feed it).

The settled invoices are sorted by issue date; the last ``test_share`` (20%) are the test set, predicted **as of
their issue date** by models trained on the first 80% only. Features are as-of, so a test invoice sees the
payments its customer made before its issue date, and nothing after.

Figures (``late_days`` = N):
* ``mae_days``: mean absolute error of the predicted days late;
* ``auc_late``: ROC AUC of the probability of being paid more than N days late (null when the test set has a
  single class);
* ``calibration``: Brier score and, per band of predicted probability, the mean prediction and the observed rate;
* ``baseline_due_date_mae``: the error when every invoice is assumed paid on its due date (no AUC: a constant);
* ``baseline_customer_mean_mae`` / ``_auc``: the customer's mean past delay (and share of past invoices more
  than N days late as the score); a customer with no past payment gets the training set's mean (and rate).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .features import DEFAULT_LATE_DAYS, FEATURE_NAMES, InvoiceFacts
from .learning import Example, build_examples, fit, matrix

TEST_SHARE = 0.2
BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
_I_MEAN = FEATURE_NAMES.index("mean_delay")
_I_N = FEATURE_NAMES.index("n_settled")
_I_SHARE = FEATURE_NAMES.index("share_late")


class NotEnoughData(ValueError):
    pass


def auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """ROC AUC (ties count one half); None when only one class is present."""
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return None
    order = np.argsort(np.asarray(scores, dtype=float), kind="mergesort")
    s = np.asarray(scores, dtype=float)[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):  # average ranks over ties
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[i : j + 1] = (i + j) / 2 + 1
        i = j + 1
    lab = np.asarray(labels)[order]
    return float((ranks[lab == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def calibration(probs: Sequence[float], labels: Sequence[int]) -> dict[str, Any]:
    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels, dtype=float)
    bins = []
    for lo, hi in zip(BANDS, BANDS[1:], strict=False):
        mask = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= hi))
        if mask.any():
            bins.append(
                {
                    "from": lo,
                    "to": hi,
                    "count": int(mask.sum()),
                    "mean_predicted": round(float(p[mask].mean()), 4),
                    "observed_rate": round(float(y[mask].mean()), 4),
                }
            )
    return {"brier": round(float(((p - y) ** 2).mean()), 4) if len(p) else None, "bins": bins}


def split(history: dict[Any, list[InvoiceFacts]], test_share: float = TEST_SHARE) -> tuple[set, set, dt.date]:
    """Keys of the training and test invoices (settled ones, split by issue date), and the first test date."""
    settled = sorted(
        (inv.issue_date, str(inv.key), inv.key) for invs in history.values() for inv in invs if inv.settled_on
    )
    n_test = math.ceil(len(settled) * test_share)
    if len(settled) - n_test < 2 or n_test < 1:
        raise NotEnoughData(f"only {len(settled)} settled invoices: at least 3 are needed to evaluate")
    train = {k for _, _, k in settled[: len(settled) - n_test]}
    test = {k for _, _, k in settled[len(settled) - n_test :]}
    return train, test, settled[len(settled) - n_test][0]


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class TestRun:
    """What a time-split run predicted for its test invoices (arrays aligned by test invoice)."""

    late_days: int
    n_train: int
    test_from: dt.date
    y: np.ndarray  # actual days late
    pred: np.ndarray
    prob: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mean_pred: np.ndarray  # customer-mean baseline
    mean_score: np.ndarray


def run_split(
    history: dict[Any, list[InvoiceFacts]],
    *,
    late_days: int = DEFAULT_LATE_DAYS,
    test_share: float = TEST_SHARE,
    trained_on: dt.date | None = None,
    max_iter: int = 200,
    examples: Sequence[Example] | None = None,
) -> TestRun:
    """Train on the first 80% (by issue date), predict the rest as of each invoice's issue date."""
    train_keys, test_keys, cutoff = split(history, test_share)
    if examples is None:
        examples = build_examples(history, late_days=late_days)
    # features are as-of, so one set of examples serves both sides: the training invoices with their later
    # snapshots, the test invoices as of their issue date only
    train = [e for e in examples if e.invoice.key in train_keys]
    test = [e for e in examples if e.invoice.key in test_keys and e.as_of == e.invoice.issue_date]
    learner = fit(train, late_days=late_days, trained_on=trained_on or cutoff, max_iter=max_iter)
    x = matrix(e.row for e in test)
    y = np.asarray([float(e.invoice.delay) for e in test])  # type: ignore[arg-type]
    est = learner.estimates(x)
    train_mean = float(np.mean(learner.delays)) if learner.delays else 0.0
    train_rate = float(np.mean([d > late_days for d in learner.delays])) if learner.delays else 0.0
    has_history = x[:, _I_N] > 0
    return TestRun(
        late_days=late_days,
        n_train=len(train_keys),
        test_from=cutoff,
        y=y,
        pred=np.asarray([e.days_late for e in est]),
        prob=np.asarray([e.prob_late for e in est]),
        low=np.asarray([e.low for e in est]),
        high=np.asarray([e.high for e in est]),
        mean_pred=np.where(has_history, x[:, _I_MEAN], train_mean),
        mean_score=np.where(has_history, x[:, _I_SHARE], train_rate),
    )


def summarize(runs: Sequence[TestRun]) -> dict[str, Any]:
    """The figures of one run, or of several pooled (each company predicted by its own model)."""
    late_days = runs[0].late_days
    y, pred, prob, low, high, mean_pred, mean_score = (
        np.concatenate([getattr(r, name) for r in runs])
        for name in ("y", "pred", "prob", "low", "high", "mean_pred", "mean_score")
    )
    labels = [int(v > late_days) for v in y]
    mae = float(np.abs(pred - y).mean())
    base_due = float(np.abs(y).mean())
    base_mean = float(np.abs(mean_pred - y).mean())
    return {
        "late_days": late_days,
        "n_train": sum(r.n_train for r in runs),
        "n_test": len(y),
        "test_from": min(r.test_from for r in runs).isoformat(),
        "mae_days": _r(mae),
        "auc_late": _r(auc(list(prob), labels), 4),
        "calibration": calibration(list(prob), labels),
        "interval_coverage": _r(float(((y >= np.floor(low)) & (y <= np.ceil(high))).mean()), 4),
        "late_rate_test": _r(float(np.mean(labels)), 4),
        "baseline_due_date_mae": _r(base_due),
        "baseline_due_date_auc": None,
        "baseline_customer_mean_mae": _r(base_mean),
        "baseline_customer_mean_auc": _r(auc(list(mean_score), labels), 4),
        "beats_baselines": mae < base_due and mae < base_mean,
    }


def evaluate(history: dict[Any, list[InvoiceFacts]], **kwargs: Any) -> dict[str, Any]:
    """``run_split`` then ``summarize``: the figures of one history (a company, or a CSV file)."""
    return summarize([run_split(history, **kwargs)])
