"""Model files: one joblib file per trained model under ``RELANCE_ML_DIR/<company>/``, listed in ModelVersion.

A file holds the fitted ``Learner`` plus its metadata (version, training date, metrics, scikit-learn version).
Files are only ever read from that directory, which Relance itself writes (joblib files are pickles: never
point ``RELANCE_ML_DIR`` at files from elsewhere).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import joblib
from django.conf import settings
from django.db import transaction

from relance.core import clock

from .learning import Learner
from .models import ModelVersion

FORMAT = 1


def model_dir(company_code: str) -> Path:
    return Path(settings.RELANCE_ML_DIR) / company_code


def save(*, company: Any, learner: Learner, metrics: dict[str, Any]) -> ModelVersion:
    """Write the file, make it the company's active model (the previous one stays listed, inactive)."""
    import sklearn

    now = clock.now()
    version = f"{company.code}-{now:%Y%m%d-%H%M%S}-{now.microsecond:06d}"
    folder = model_dir(company.code)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{version}.joblib"
    payload = {
        "format": FORMAT,
        "version": version,
        "company": company.code,
        "trained_on": learner.trained_on.isoformat(),
        "trained_at": now.isoformat(),
        "sklearn": sklearn.__version__,
        "metrics": metrics,
        "learner": learner,
    }
    tmp = path.with_suffix(".tmp")
    joblib.dump(payload, tmp, compress=3)
    tmp.replace(path)
    with transaction.atomic():
        ModelVersion.objects.filter(company=company, active=True).update(active=False)
        return ModelVersion.objects.create(
            company=company,
            version=version,
            path=str(path),
            trained_on=learner.trained_on,
            trained_at=now,
            n_train=learner.n_train,
            metrics=metrics,
            active=True,
        )


def active(company_id: int) -> ModelVersion | None:
    return ModelVersion.objects.filter(company_id=company_id, active=True).first()


def load(row: ModelVersion) -> Learner | None:
    """The learner of a model row; None when its file is missing or unreadable (the fallback is then used)."""
    try:
        payload = joblib.load(row.path)
    except (OSError, EOFError, ValueError, ImportError, AttributeError):
        return None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None
    return payload["learner"]


def stale(row: ModelVersion | None, as_of: dt.date) -> bool:
    """Whether the company's model should be retrained on ``as_of`` (none yet, or older than the retrain period)."""
    return row is None or (as_of - row.trained_on).days >= settings.RELANCE_ML_RETRAIN_DAYS
