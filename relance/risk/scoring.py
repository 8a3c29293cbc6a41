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

from . import config, credit, domain, queries, rows
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

CHUNK = 20000  # customers per pass: bounded memory, and fewer bound parameters than SQLite's limit
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
    targeted: bool = False  # named customers only (not a starting point for the next incremental run)
    entity_worst: dict[int, tuple[int, str]] = field(default_factory=dict)

    def note_entity(self, entity_id: int, score: int, risk_class: str) -> None:
        """Keep the worst account of each legal entity seen (class first, then score)."""
        known = self.entity_worst.get(entity_id)
        if (
            known is None
            or domain.class_rank(risk_class) > domain.class_rank(known[1])
            or (risk_class == known[1] and score < known[0])
        ):
            self.entity_worst[entity_id] = (score, risk_class)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "mode": "all" if self.full else "customers" if self.targeted else "changed",
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
    return hashlib.sha256(repr(values).encode()).hexdigest()  # deterministic: dicts keep their insertion order


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
    # A run over named customers (an import, ``--customer``) is no starting point for the next incremental run:
    # it did not look at the other customers' changes.
    last = (
        RescoreRun.objects.filter(finished_at__isnull=False)
        .exclude(counts__mode="customers")
        .order_by("-started_at")
        .first()
    )
    group_ids = set(Customer.objects.values_list("company__group_id", flat=True).distinct())
    cfgs = {gid: settings_for(gid) for gid in group_ids}
    any_cfg = next(iter(cfgs.values()), config.resolve({}))
    if customer_ids is not None:
        ids: list[int] | None = sorted(set(customer_ids))
    elif full or last is None or RiskSettings.objects.filter(updated_at__gt=last.started_at).exists():
        ids, full = None, True
    else:
        ids = sorted(changed_customer_ids(last.started_at, last_as_of=last.as_of, as_of=as_of, cfg=any_cfg))
    result = RescoreResult(as_of=as_of, full=full, considered_ids=ids, targeted=customer_ids is not None)
    if ids is None:
        all_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        for i in range(0, len(all_ids), CHUNK):
            part = all_ids[i : i + CHUNK]
            _score_chunk(range(part[0], part[-1] + 1), as_of=as_of, cfgs=cfgs, result=result, progress=progress)
    else:
        for i in range(0, len(ids), CHUNK):
            _score_chunk(ids[i : i + CHUNK], as_of=as_of, cfgs=cfgs, result=result, progress=progress)
    if full:
        result.entities = _write_entities(result.entity_worst, as_of=as_of, every=True)
    else:
        result.entities = _entity_scores(result.changed_ids, as_of=as_of)
    with transaction.atomic():
        run = RescoreRun.objects.create(
            as_of=as_of, started_at=started, finished_at=clock.now(), full=full, counts=result.as_dict()
        )
        audit.record(actor=actor, action="risk.rescore", obj=run, changes=result.as_dict())
    return result


def _score_chunk(
    ids: range | list[int],
    *,
    as_of: dt.date,
    cfgs: dict[int, dict[str, Any]],
    result: RescoreResult,
    progress: Callable[[int], Any] | None,
) -> None:
    from relance.channels import services as channels
    from relance.channels import webhooks

    any_cfg = next(iter(cfgs.values()), config.resolve({}))
    customers = {
        r["pk"]: r
        for r in Customer.objects.filter(queries.ids_q(ids, "pk")).values(
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
    figures = queries.ledger_figures(ids, as_of=as_of, cfg=any_cfg)
    broken, disputes = queries.promise_and_dispute_counts(ids, as_of=as_of, cfg=any_cfg)
    entity_ids = {c["legal_entity_id"] for c in customers.values() if c["legal_entity_id"]}
    entities = queries.entity_inputs(entity_ids, as_of=as_of)
    existing = {
        r["customer_id"]: r
        for r in CustomerRisk.objects.filter(queries.ids_q(ids)).values(
            "pk", "customer_id", "inputs_hash", "risk_class", "dunning_stopped", "blocked", "blocked_reason"
        )
    }
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
        if c["legal_entity_id"]:
            result.note_entity(c["legal_entity_id"], scored.score, scored.risk_class)
        known = existing.get(cid)
        if known is not None and known["inputs_hash"] == digest:
            continue
        old_class = known["risk_class"] if known else (c["risk_class"] or "")
        insolvent = scored.risk_class == domain.X
        blocked, blocked_reason = (known["blocked"], known["blocked_reason"]) if known else (False, "")
        if insolvent and not (known and known["dunning_stopped"]):
            blocked, blocked_reason = True, INSOLVENCY_BLOCK
        reasons_json = rows.Json(json.dumps(reasons))
        rule_json = json.dumps(rule)
        row = {
            "customer_id": cid,
            "score": scored.score,
            "risk_class": scored.risk_class,
            "reasons": reasons_json,
            "factors": rows.Json(json.dumps({**scored.components, "rule": rule})),
            "inputs_hash": digest,
            "scored_on": as_of,
            "currency": currency,
            "recommended_limit": rec.amount,
            "recommended_rule": rule_json,
            "dunning_stopped": insolvent,
            "insolvency_since": scored.legal.since,
            "blocked": blocked,
            "blocked_reason": blocked_reason,
            "granted_note": "",
        }
        if known is None:
            to_create.append(row)
        else:
            to_update.append({**row, "id": known["pk"]})
        history.append(
            {
                "customer_id": cid,
                "as_of": as_of,
                "score": scored.score,
                "risk_class": scored.risk_class,
                "reasons": reasons_json,
            }
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
        now = clock.now()
        for row in to_create + to_update:
            row["updated_at"] = now
        fields = [
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
            "updated_at",
        ]
        rows.insert(CustomerRisk, ["customer", "granted_note", *fields], to_create)
        rows.update(CustomerRisk, fields, to_update)
        changed = [h["customer_id"] for h in history]
        ScoreHistory.objects.filter(customer_id__in=changed, as_of=as_of).delete()
        rows.insert(ScoreHistory, ["customer", "as_of", "score", "risk_class", "reasons"], history)
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
    if customer_ids is not None and len(customer_ids) > CHUNK:
        customer_ids = None  # many changes: recompute every entity (no long id lists)
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
    return _write_entities(worst, as_of=as_of, every=customer_ids is None)


def _write_entities(worst: dict[int, tuple[int, str]], *, as_of: dt.date, every: bool) -> int:
    existing = LegalEntityRisk.objects.all()
    if not every:
        existing = existing.filter(legal_entity_id__in=list(worst))
    current = {r[0]: r for r in existing.values_list("legal_entity_id", "pk", "score", "risk_class")}
    create, update = [], []
    for eid, (s, cls) in worst.items():
        row = current.get(eid)
        values = {"legal_entity_id": eid, "score": s, "risk_class": cls, "scored_on": as_of}
        if row is None:
            create.append(values)
        elif (row[2], row[3]) != (s, cls):
            update.append({**values, "id": row[1]})
    rows.insert(LegalEntityRisk, ["legal_entity", "score", "risk_class", "scored_on"], create)
    rows.update(LegalEntityRisk, ["score", "risk_class", "scored_on"], update)
    return len(create) + len(update)
