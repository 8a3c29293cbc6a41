"""Writes of the ML app: training a company's model, refreshing predictions and payer profiles.

Each function works on one company, writes under ``transaction.atomic`` and leaves an audit row. Re-running
for the same date replaces the rows it wrote (one prediction per open invoice, one feature row per customer):
nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from relance.core import audit
from relance.ledger.models import Customer
from relance.orgs.models import Company

from . import data, domain, store
from .evaluation import NotEnoughData, run_split, summarize
from .features import InvoiceFacts, as_row, customer_features, invoice_features
from .learning import MIN_TRAIN, Learner, build_examples, fit, matrix
from .models import InvoicePrediction, ModelVersion, PayerFeatures


def late_days() -> int:
    return int(getattr(settings, "RELANCE_ML_LATE_DAYS", 30))


def _as_of_history(history: dict[int, list[InvoiceFacts]], as_of: dt.date) -> dict[int, list[InvoiceFacts]]:
    """The history as known on ``as_of``: later invoices dropped, later payments not yet made."""
    out: dict[int, list[InvoiceFacts]] = {}
    for customer, invoices in history.items():
        kept = []
        for inv in invoices:
            if inv.issue_date > as_of:
                continue
            if inv.settled_on is not None and inv.settled_on >= as_of:
                inv = InvoiceFacts(
                    inv.key, inv.issue_date, inv.due_date, inv.amount, inv.currency, None, inv.disputes, inv.reminders
                )
            kept.append(inv)
        out[customer] = kept
    return out


@dataclass(frozen=True)
class TrainResult:
    company: str
    version: str  # "" when no model was trained
    n_settled: int
    metrics: dict[str, Any]
    fallback_reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "version": self.version,
            "n_settled": self.n_settled,
            "metrics": self.metrics,
            "fallback_reason": self.fallback_reason,
        }


def model_train(*, company: Company, as_of: dt.date, actor: Any = None, max_iter: int = 200) -> TrainResult:
    """Evaluate on a time split (the metrics stored with the model), then fit on every invoice paid before ``as_of``."""
    history = _as_of_history(data.company_history(company.pk), as_of)
    n_settled = sum(1 for invs in history.values() for inv in invs if inv.settled_on)
    if n_settled < MIN_TRAIN:
        reason = f"only {n_settled} paid invoices (at least {MIN_TRAIN} are needed): fallback estimates are used"
        return TrainResult(company.code, "", n_settled, {}, reason)
    examples = build_examples(history, late_days=late_days())
    try:
        run = run_split(history, late_days=late_days(), trained_on=as_of, max_iter=max_iter, examples=examples)
        metrics = summarize([run])
    except NotEnoughData as exc:
        metrics = {"error": str(exc)}
    learner = fit(examples, late_days=late_days(), trained_on=as_of, max_iter=max_iter)
    row = store.save(company=company, learner=learner, metrics=metrics)
    audit.record(
        actor=actor,
        action="ml.model_trained",
        obj=row,
        company_id=company.pk,
        message=f"{row.version}: {n_settled} paid invoices, MAE {metrics.get('mae_days')} days",
    )
    return TrainResult(company.code, row.version, n_settled, metrics)


def _company_baselines(
    history: dict[int, list[InvoiceFacts]], profiles: dict[int, str], as_of: dt.date
) -> tuple[dict[int, list[float]], dict[str, list[float]], list[float]]:
    per_customer: dict[int, list[float]] = defaultdict(list)
    per_profile: dict[str, list[float]] = defaultdict(list)
    everyone: list[float] = []
    for customer, invoices in history.items():
        for inv in invoices:
            if inv.settled_on is not None and inv.settled_on < as_of:
                d = float(inv.delay)  # type: ignore[arg-type]
                per_customer[customer].append(d)
                everyone.append(d)
                if profiles.get(customer):
                    per_profile[profiles[customer]].append(d)
    return per_customer, per_profile, everyone


def predictions_refresh(
    *, company: Company, as_of: dt.date, learner: Learner | None = None, version: str = "", actor: Any = None
) -> dict[str, Any]:
    """Predict every open invoice of the company as of ``as_of`` and replace its stored predictions."""
    n = late_days()
    history = _as_of_history(data.company_history(company.pk), as_of)
    open_ids = data.open_invoice_ids(company.pk)
    row = None
    why = "no trained model for this company"
    if learner is None:
        row = store.active(company.pk)
        learner = store.load(row) if row else None
        if row is not None and learner is None:
            why = f"model file {row.version} unreadable"
        version = row.version if (row and learner) else ""
    targets = [(c, inv, invs) for c, invs in history.items() for inv in invs if inv.key in open_ids]
    estimates: list[domain.Estimate]
    reasons: list[list[dict[str, Any]]]
    if learner is not None and targets:
        x = matrix(as_row(invoice_features(inv, invs, as_of, late_days=n)) for _, inv, invs in targets)
        estimates = [
            domain.beyond_elapsed(est, float((as_of - inv.due_date).days))
            for est, (_, inv, _) in zip(learner.estimates(x), targets, strict=True)
        ]
        reasons = learner.explain(x)
    else:
        profiles = dict(Customer.objects.filter(company=company).values_list("pk", "payer_profile"))
        per_customer, per_profile, everyone = _company_baselines(history, profiles, as_of)
        estimates = [
            domain.fallback_estimate(
                customer_delays=per_customer.get(c, ()),
                profile_delays=per_profile.get(profiles.get(c, ""), ()),
                company_delays=everyone,
                late_days=n,
                elapsed=float((as_of - inv.due_date).days),
                why=why,
            )
            for c, inv, _ in targets
        ]
        reasons = [[] for _ in targets]
    rows = []
    for (customer, inv, _), est, why_late in zip(targets, estimates, reasons, strict=True):
        dated = domain.to_dates(est, due_date=inv.due_date, as_of=as_of, late_days=n)
        rows.append(
            InvoicePrediction(
                document_id=inv.key,
                company_id=company.pk,
                customer_id=customer,
                as_of=as_of,
                expected_payment_date=dated.expected_payment_date,
                expected_days_late=dated.expected_days_late,
                late_threshold_days=n,
                prob_late=dated.prob_late,
                interval_low=dated.interval_low,
                interval_high=dated.interval_high,
                model_version=version or "fallback",
                fallback=est.fallback,
                fallback_reason=est.reason[:200],
                reasons=why_late,
            )
        )
    with transaction.atomic():
        deleted, _ = InvoicePrediction.objects.filter(company=company).delete()
        InvoicePrediction.objects.bulk_create(rows, batch_size=1000)
        audit.record(
            actor=actor,
            action="ml.predictions_refreshed",
            obj=company,
            company_id=company.pk,
            message=f"{len(rows)} open invoices predicted as of {as_of} ({version or 'fallback'})",
        )
    return {"predicted": len(rows), "fallback": sum(1 for r in rows if r.fallback), "model": version or None}


def _profile_decisions(
    company: Company, as_of: dt.date
) -> tuple[dict[int, Customer], dict[int, tuple[domain.ProfileDecision, dict[str, float]]]]:
    history = _as_of_history(data.company_history(company.pk), as_of)
    customers = {c.pk: c for c in Customer.objects.filter(company=company).only("pk", "payer_profile", "company_id")}
    decisions: dict[int, tuple[domain.ProfileDecision, dict[str, float]]] = {}
    for pk in customers:
        feats = customer_features(history.get(pk, []), as_of, late_days=late_days())
        decisions[pk] = (domain.classify_payer(feats), feats)
    return customers, decisions


def profiles_compare(*, company: Company, as_of: dt.date) -> dict[str, Any]:
    """How the rules agree with the profiles the customers have now (e.g. the demo generator's), writing nothing."""
    customers, decisions = _profile_decisions(company, as_of)
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    labelled = agree = unclassified = 0
    for pk, (decision, _) in decisions.items():
        truth = customers[pk].payer_profile
        if not decision.profile:
            unclassified += 1
        if not truth:
            continue
        labelled += 1
        agree += int(truth == decision.profile)
        confusion[truth][decision.profile or "unclassified"] += 1
    return {
        "labelled": labelled,
        "agree": agree,
        "agreement": round(agree / labelled, 4) if labelled else None,
        "unclassified": unclassified,
        "confusion": {t: dict(sorted(row.items())) for t, row in sorted(confusion.items())},
    }


def profiles_refresh(*, company: Company, as_of: dt.date, actor: Any = None) -> dict[str, Any]:
    """Classify every customer of the company (rules in ``domain.classify_payer``), store the features and
    write ``Customer.payer_profile`` where it changed (one audit row per change). A customer with too little
    history keeps the profile it has (set by hand or imported)."""
    customers, decisions = _profile_decisions(company, as_of)
    changed = []
    counts: dict[str, int] = defaultdict(int)
    with transaction.atomic():
        PayerFeatures.objects.filter(company=company).delete()
        PayerFeatures.objects.bulk_create(
            [
                PayerFeatures(
                    customer_id=pk,
                    company_id=company.pk,
                    as_of=as_of,
                    profile=d.profile,
                    rule=d.rule[:200],
                    rule_key=d.rule_key,
                    rule_params=d.params,
                    features={k: round(v, 3) for k, v in f.items()},
                )
                for pk, (d, f) in decisions.items()
            ],
            batch_size=1000,
        )
        for pk, (decision, _) in decisions.items():
            counts[decision.profile or "unclassified"] += 1
            customer = customers[pk]
            # too little history decides nothing: a profile set by hand or imported is kept
            if decision.profile and customer.payer_profile != decision.profile:
                before = customer.payer_profile
                customer.payer_profile = decision.profile
                changed.append(customer)
                audit.record(
                    actor=actor,
                    action="ml.payer_profile_changed",
                    obj=customer,
                    changes={"payer_profile": [before, decision.profile]},
                    message=decision.rule[:300],
                )
        Customer.objects.bulk_update(changed, ["payer_profile"], batch_size=1000)
    return {"customers": len(decisions), "changed": len(changed), "profiles": dict(sorted(counts.items()))}


def daily_cycle(*, as_of: dt.date, actor: Any = None, companies: list[Company] | None = None) -> dict[str, Any]:
    """Per company: profiles, (re)training when the model is older than RELANCE_ML_RETRAIN_DAYS, predictions."""
    results: dict[str, Any] = {}
    for company in companies if companies is not None else Company.objects.order_by("code"):
        result: dict[str, Any] = {"profiles": profiles_refresh(company=company, as_of=as_of, actor=actor)}
        if store.stale(store.active(company.pk), as_of):
            result["train"] = model_train(company=company, as_of=as_of, actor=actor).as_dict()
        result["predictions"] = predictions_refresh(company=company, as_of=as_of, actor=actor)
        results[company.code] = result
    return results


def models_list() -> list[ModelVersion]:
    return list(ModelVersion.objects.select_related("company").order_by("company__code", "-trained_at"))
