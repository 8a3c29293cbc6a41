"""How each payer profile pays: days between the due date and the payment (pure).

Dates are ``date.toordinal()`` integers. A delay of ``None`` means "never pays" (defaulting payers).

* ``prompt``: around the due date, a few days early or late, now and then a week or two late;
* ``slow_steady``: steadily 15 to 30 days late;
* ``erratic``: widely variable, from early to four months late;
* ``deteriorating``: on time until ``drift_from``, then later and later, weeks late by the as-of date;
* ``defaulting``: a little late until ``stop``, then pays nothing more.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from relance.core.vocab import PayerProfile

# Share of customers per profile (the minimum is one customer each).
PROFILE_WEIGHTS: tuple[tuple[str, int], ...] = (
    (PayerProfile.PROMPT, 42),
    (PayerProfile.SLOW_STEADY, 26),
    (PayerProfile.ERRATIC, 16),
    (PayerProfile.DETERIORATING, 9),
    (PayerProfile.DEFAULTING, 7),
)

# Per-invoice probabilities by profile: dispute, partial payment
DISPUTE_RATE = {
    PayerProfile.PROMPT: 0.006,
    PayerProfile.SLOW_STEADY: 0.012,
    PayerProfile.ERRATIC: 0.03,
    PayerProfile.DETERIORATING: 0.02,
    PayerProfile.DEFAULTING: 0.04,
}
PARTIAL_RATE = {
    PayerProfile.PROMPT: 0.01,
    PayerProfile.SLOW_STEADY: 0.03,
    PayerProfile.ERRATIC: 0.08,
    PayerProfile.DETERIORATING: 0.06,
    PayerProfile.DEFAULTING: 0.12,
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One customer's way of paying. ``drift_from`` and ``stop`` are ordinals (0 when unused)."""

    profile: str
    as_of: int
    drift_from: int = 0
    stop: int = 0
    terms: int = 30

    def delay(self, rng: random.Random, due: int) -> int | None:
        """Days after ``due`` when the invoice is paid (negative: early), or None when it never is."""
        profile = self.profile
        if profile == PayerProfile.PROMPT:
            days = rng.randint(5, 15) if rng.random() < 0.05 else round(rng.gauss(-1.0, 3.0))
            return max(days, -(self.terms // 2))
        if profile == PayerProfile.SLOW_STEADY:
            return rng.randint(15, 30)
        if profile == PayerProfile.ERRATIC:
            r = rng.random()
            if r < 0.35:
                days = round(rng.gauss(0.0, 6.0))
            elif r < 0.75:
                days = round(rng.expovariate(1 / 35))
            elif r < 0.95:
                days = rng.randint(40, 120)
            else:
                days = rng.randint(-10, -1)
            return max(days, -(self.terms // 2))
        if profile == PayerProfile.DETERIORATING:
            if due < self.drift_from:
                return max(round(rng.gauss(0.5, 3.0)), -3)
            progress = (due - self.drift_from) / max(self.as_of - self.drift_from, 1)
            return max(round(rng.gauss(5.0 + 55.0 * progress, 6.0)), 0)
        # defaulting: somewhat late, then nothing from ``stop`` on
        days = max(round(rng.gauss(10.0, 8.0)), -3)
        return None if due + days >= self.stop else days
