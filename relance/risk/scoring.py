"""Rescoring service: compute scores set-based, write only what changed, keep history and the class mirror.

:func:`rescore` is what the daily job (risk.jobs) and ``relance risk rescore`` run. Incremental by default:
only the customers whose inputs changed since the previous run (:func:`changed_customer_ids`) are scored,
and among them only those whose result changed are written. ``full=True`` scores every customer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from relance.core import audit, clock
from relance.ledger.models import Allocation, Customer, Document, Payment

from . import config, credit, domain, queries
from .models import (
    CreditInsuranceCover,
    CustomerRisk,
    ExternalScore,
    FinancialStatement,
    LegalEntityRisk,
    LegalEvent,
    Order,
    RescoreRun,
    RiskSettings,
    ScoreHistory,
)

CHUNK = 5000
INSOLVENCY_BLOCK = "insolvency proceedings"


def settings_for(group_id: int | None) -> dict[str, Any]:
    """The effective settings of a group (defaults when none are stored)."""
    doc = RiskSettings.objects.filter(group_id=group_id).values_list("document", flat=True).first()
    return config.resolve(doc or {})


@dataclass
class RescoreResult:
    as_of: dt.date
    full: bool
    considered: int = 0
    changed: int = 0
    created: int = 0
    class_changes: int = 0
    entities: int = 0
    changed_ids: list[int] = field(default_factory=list)
    considered_ids: list[int] | None = None  # None: every customer

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "mode": "all" if self.full else "changed",
            "considered": self.considered,
            "changed": self.changed,
            "created": self.created,
            "class_changes": self.class_changes,
            "legal_entities": self.entities,
        }


def changed_customer_ids(since: dt.datetime, *, last_as_of: dt.date, as_of: dt.date, cfg: dict[str, Any]) -> set[int]:
    """Customers whose scoring inputs may have changed since ``since`` (the previous run's start).

    Data changes: documents, allocations, deposits, promises, disputes, orders, the customer itself; financial
    statements, legal events and external scores of its legal entity. Time changes: open overdue items (their
    age is an input), settlements crossing a window boundary between the two run dates, limits expiring.
    Customers never scored are included.
    """
    from relance.collections.models import Dispute, Promise

    def cids(qs: Any) -> set[int]:
        return set(qs.values_list("customer_id", flat=True).distinct())

    ids: set[int] = set()
    ids |= cids(Document.objects.filter(updated_at__gt=since))
    ids |= cids(Allocation.objects.filter(created_at__gt=since))
    ids |= cids(Payment.objects.filter(updated_at__gt=since, customer__isnull=False))
    ids |= cids(Promise.objects.filter(updated_at__gt=since))
    ids |= cids(Dispute.objects.filter(updated_at__gt=since))
    ids |= cids(Order.objects.filter(updated_at__gt=since))
    ids |= cids(CreditInsuranceCover.objects.filter(updated_at__gt=since))
    ids |= set(Customer.objects.filter(updated_at__gt=since).values_list("pk", flat=True))
    entities: set[int] = set()
    entities |= set(FinancialStatement.objects.filter(updated_at__gt=since).values_list("legal_entity_id", flat=True))
    entities |= set(LegalEvent.objects.filter(created_at__gt=since).values_list("legal_entity_id", flat=True))
    entities |= set(ExternalScore.objects.filter(updated_at__gt=since).values_list("legal_entity_id", flat=True))
    if entities:
        ids |= set(Customer.objects.filter(legal_entity_id__in=entities).values_list("pk", flat=True))
    ids |= cids(Document.objects.filter(type="invoice", open_amount__gt=0, due_date__lt=as_of))
    b = cfg["behaviour"]
    bounds = {int(b["lookback_days"]), int(b["recent_days"]), *(int(k) for k in b["recency_weights"])}
    window = Q()
    for bound in bounds:
        window |= Q(
            settled_on__gt=last_as_of - dt.timedelta(days=bound), settled_on__lte=as_of - dt.timedelta(days=bound)
        )
    if last_as_of < as_of:
        ids |= cids(Document.objects.filter(window, type="invoice"))
        ids |= set(
            CustomerRisk.objects.filter(granted_expires_on__gte=last_as_of, granted_expires_on__lt=as_of).values_list(
                "customer_id", flat=True
            )
        )
        ids |= set(
            LegalEvent.objects.filter(published_on__gt=last_as_of, published_on__lte=as_of)
            .values_list("legal_entity__accounts__pk", flat=True)
            .exclude(legal_entity__accounts__pk=None)
        )
    ids |= set(Customer.objects.filter(risk__isnull=True).values_list("pk", flat=True))
    return ids


def _fingerprint(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def rescore(
    *,
    as_of: dt.date,
    customer_ids: Iterable[int] | None = None,
    full: bool = False,
    progress: Callable[[int], Any] | None = None,
    actor: Any = None,
) -> RescoreResult:
    """Score customers and write the changed results (see the module docstring)."""
    started = clock.now()
    last = RescoreRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    group_ids = set(Customer.objects.values_list("company__group_id", flat=True).distinct())
    cfgs = {gid: settings_for(gid) for gid in group_ids}
    any_cfg = next(iter(cfgs.values()), config.resolve({}))
    if customer_ids is not None:
        ids: list[int] | None = sorted(set(customer_ids))
    elif full or last is None or RiskSettings.objects.filter(updated_at__gt=last.started_at).exists():
        ids, full = None, True
    else:
        ids = sorted(changed_customer_ids(last.started_at, last_as_of=last.as_of, as_of=as_of, cfg=any_cfg))
    result = RescoreResult(as_of=as_of, full=full, considered_ids=ids)
    if ids is None:
        all_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        _score_chunk(None, all_ids, as_of=as_of, cfgs=cfgs, result=result, progress=progress)
    else:
        for i in range(0, len(ids), CHUNK):
            part = ids[i : i + CHUNK]
            _score_chunk(part, part, as_of=as_of, cfgs=cfgs, result=result, progress=progress)
    result.entities = _entity_scores(result.changed_ids if not full else None, as_of=as_of)
    with transaction.atomic():
        run = RescoreRun.objects.create(
            as_of=as_of, started_at=started, finished_at=clock.now(), full=full, counts=result.as_dict()
        )
        audit.record(actor=actor, action="risk.rescore", obj=run, changes=result.as_dict())
    return result


def _score_chunk(
    query_ids: list[int] | None,
    ids: list[int],
    *,
    as_of: dt.date,
    cfgs: dict[int, dict[str, Any]],
    result: RescoreResult,
    progress: Callable[[int], Any] | None,
) -> None:
    from relance.channels import services as channels
    from relance.channels import webhooks

    any_cfg = next(iter(cfgs.values()), config.resolve({}))
    rows = Customer.objects.filter(pk__in=ids) if query_ids is not None else Customer.objects.all()
    customers = {
        r["pk"]: r
        for r in rows.values(
            "pk",
            "reference",
            "name",
            "company_id",
            "company__code",
            "company__currency",
            "company__group_id",
            "legal_entity_id",
            "sector_code",
            "size",
            "risk_class",
        )
    }
    figures = queries.ledger_figures(query_ids, as_of=as_of, cfg=any_cfg)
    broken, disputes = queries.promise_and_dispute_counts(query_ids, as_of=as_of, cfg=any_cfg)
    entity_ids = {c["legal_entity_id"] for c in customers.values() if c["legal_entity_id"]}
    entities = queries.entity_inputs(entity_ids, as_of=as_of)
    existing = {r.customer_id: r for r in CustomerRisk.objects.filter(customer_id__in=list(customers))}
    cache = queries.RateCache(as_of)
    empty = queries.LedgerFigures(domain.BehaviourStats(), Decimal(0), 0)
    to_create, to_update, history, class_moves = [], [], [], defaultdict(list)
    events = []
    for cid, c in customers.items():
        cfg = cfgs.get(c["company__group_id"], any_cfg)
        fig = figures.get(cid, empty)
        stats = fig.stats
        if cid in broken or cid in disputes:
            stats = domain.BehaviourStats(
                **{**stats.__dict__, "broken_promises": broken.get(cid, 0), "open_disputes": disputes.get(cid, 0)}
            )
        ent = entities.get(c["legal_entity_id"]) if c["legal_entity_id"] else None
        data = domain.ScoreInput(
            behaviour=stats,
            financials=ent.financials if ent else None,
            legal_events=ent.legal_events if ent else (),
            external=ent.external if ent else (),
            sector_code=c["sector_code"],
            size=c["size"],
        )
        scored = domain.score(data, as_of=as_of, cfg=cfg)
        currency = c["company__currency"]
        equity = provider_limit = None
        if ent and ent.financials and domain.financial_score(ent.financials, as_of=as_of, cfg=cfg) is not None:
            equity = cache.convert(ent.financials.equity, ent.financials_currency, currency)
        if ent and ent.provider_limit is not None:
            provider_limit = cache.convert(ent.provider_limit, ent.provider_limit_currency or currency, currency)
        rec = credit.recommended_limit(
            credit.LimitInput(
                scored.risk_class, currency, fig.sales_12m, fig.months_of_history, equity, provider_limit
            ),
            cfg,
        )
        reasons = [r.as_dict() for r in scored.reasons]
        rule = [s.as_dict() for s in rec.steps]
        values = {
            "score": scored.score,
            "risk_class": scored.risk_class,
            "reasons": reasons,
            "recommended": str(rec.amount),
            "rule": rule,
            "since": scored.legal.since,
        }
        digest = _fingerprint(values)
        risk = existing.get(cid)
        if risk is not None and risk.inputs_hash == digest:
            continue
        old_class = risk.risk_class if risk else (c["risk_class"] or "")
        factors = {**scored.components, "rule": rule}
        if risk is None:
            risk = CustomerRisk(customer_id=cid, currency=currency)
            to_create.append(risk)
        else:
            to_update.append(risk)
        insolvent = scored.risk_class == domain.X
        if insolvent and not risk.dunning_stopped:
            risk.blocked, risk.blocked_reason = True, INSOLVENCY_BLOCK
        risk.score, risk.risk_class, risk.reasons, risk.factors = scored.score, scored.risk_class, reasons, factors
        risk.inputs_hash, risk.scored_on, risk.currency = digest, as_of, currency
        risk.recommended_limit, risk.recommended_rule = rec.amount, json.dumps(rule)
        risk.dunning_stopped, risk.insolvency_since = insolvent, scored.legal.since
        history.append(
            ScoreHistory(
                customer_id=cid, as_of=as_of, score=scored.score, risk_class=scored.risk_class, reasons=reasons
            )
        )
        if old_class != scored.risk_class or c["risk_class"] != scored.risk_class:
            class_moves[scored.risk_class].append(cid)
        if old_class and old_class != scored.risk_class:
            result.class_changes += 1
            customer_ref = {"id": cid, "reference": c["reference"], "name": c["name"]}
            payload = {
                "customer": customer_ref,
                "old_class": old_class,
                "new_class": scored.risk_class,
                "score": scored.score,
                "as_of": as_of.isoformat(),
            }
            events.append((webhooks.CUSTOMER_RISK_CHANGED, payload, c["company_id"]))
        result.changed_ids.append(cid)
    with transaction.atomic():
        CustomerRisk.objects.bulk_create(to_create, batch_size=1000)
        CustomerRisk.objects.bulk_update(
            to_update,
            [
                "score",
                "risk_class",
                "reasons",
                "factors",
                "inputs_hash",
                "scored_on",
                "currency",
                "recommended_limit",
                "recommended_rule",
                "dunning_stopped",
                "insolvency_since",
                "blocked",
                "blocked_reason",
            ],
            batch_size=1000,
        )
        changed = [h.customer_id for h in history]
        ScoreHistory.objects.filter(customer_id__in=changed, as_of=as_of).delete()
        ScoreHistory.objects.bulk_create(history, batch_size=2000)
        for risk_class, cids in class_moves.items():
            for i in range(0, len(cids), CHUNK):
                Customer.objects.filter(pk__in=cids[i : i + CHUNK]).update(risk_class=risk_class)
        if events:
            channels.emit_many(events)
    result.considered += len(customers)
    result.created += len(to_create)
    result.changed += len(to_create) + len(to_update)
    if progress:
        progress(len(customers))


def _entity_scores(customer_ids: list[int] | None, *, as_of: dt.date) -> int:
    """Legal-entity scores across companies: the worst account's score and class (conservative)."""
    qs = CustomerRisk.objects.filter(customer__legal_entity__isnull=False, score__isnull=False)
    if customer_ids is not None:
        if not customer_ids:
            return 0
        entity_ids = set(Customer.objects.filter(pk__in=customer_ids).values_list("legal_entity_id", flat=True))
        qs = qs.filter(customer__legal_entity_id__in=entity_ids)
    worst: dict[int, tuple[int, str]] = {}
    for eid, s, cls in qs.values_list("customer__legal_entity_id", "score", "risk_class").iterator(chunk_size=5000):
        known = worst.get(eid)
        if known is None or domain.class_rank(cls) > domain.class_rank(known[1]) or (cls == known[1] and s < known[0]):
            worst[eid] = (s, cls)
    current = {r.legal_entity_id: r for r in LegalEntityRisk.objects.filter(legal_entity_id__in=list(worst))}
    create, update = [], []
    for eid, (s, cls) in worst.items():
        row = current.get(eid)
        if row is None:
            create.append(LegalEntityRisk(legal_entity_id=eid, score=s, risk_class=cls, scored_on=as_of))
        elif (row.score, row.risk_class) != (s, cls):
            row.score, row.risk_class, row.scored_on = s, cls, as_of
            update.append(row)
    LegalEntityRisk.objects.bulk_create(create, batch_size=2000)
    LegalEntityRisk.objects.bulk_update(update, ["score", "risk_class", "scored_on"], batch_size=2000)
    return len(create) + len(update)
