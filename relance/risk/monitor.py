"""Monitoring service: turn the pure conditions of risk.monitoring into alerts, and track insolvency claims.

For each customer looked at, the conditions that hold are compared with its live alerts of the monitored
kinds: a condition without a live alert raises one (``alerts.services.alert_raise``, idempotent), a live
alert whose condition ended is cleared. Running it twice changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy

from relance.alerts import services as alerts
from relance.alerts.models import Alert
from relance.ledger.models import Customer, Document
from relance.orgs.models import Company

from . import domain, monitoring, queries
from .models import OPENING_KINDS, Claim, CreditInsuranceCover, CustomerRisk, LegalEvent, ScoreHistory
from .reasons import LEGAL_KINDS
from .scoring import settings_for

KINDS = (*monitoring.MONITORED, monitoring.PROMISE_BROKEN)
CLAIM_REMINDER = "insolvency.claim_reminder"
CHUNK = 5000

TITLES = {
    monitoring.CLASS_DOWNGRADE: "Risk class lowered from {old} to {new}",
    monitoring.LEGAL_EVENT: "New legal event: {kind} published on {published_on}",
    monitoring.LIMIT_OVERRUN: "Exposure {exposure} above the credit limit of {limit}",
    monitoring.PAYMENT_SLIPPAGE: "Payment slippage: {recent} days late recently against {prior} before",
    monitoring.NEW_OVERDUE: "Invoice {number} overdue: {amount}",
    monitoring.COVER_EXPIRING: "Credit-insurance cover ({insurer}) expires on {expires_on}",
    monitoring.PROMISE_BROKEN: "Promise to pay broken on {broken_on}",
    monitoring.CLAIM_DEADLINE: "Declare the claim by {deadline} (insolvency proceedings)",
    CLAIM_REMINDER: "Claim declaration due in {days} days ({deadline})",
}


# The same titles in the reader's language (pages, digest); the stored title (above, English) is for webhooks.
LOCALISED_TITLES = {
    monitoring.CLASS_DOWNGRADE: gettext_lazy("Risk class lowered from {old} to {new}"),
    monitoring.LEGAL_EVENT: gettext_lazy("New legal event: {kind} published on {published_on}"),
    monitoring.LIMIT_OVERRUN: gettext_lazy("Exposure {exposure} above the credit limit of {limit}"),
    monitoring.PAYMENT_SLIPPAGE: gettext_lazy("Payment slippage: {recent} days late recently against {prior} before"),
    monitoring.NEW_OVERDUE: gettext_lazy("Invoice {number} overdue: {amount}"),
    monitoring.COVER_EXPIRING: gettext_lazy("Credit-insurance cover ({insurer}) expires on {expires_on}"),
    monitoring.CLAIM_DEADLINE: gettext_lazy("Declare the claim by {deadline} (insolvency proceedings)"),
    CLAIM_REMINDER: gettext_lazy("Claim declaration due in {days} days ({deadline})"),
}


MONEY_PARAMS = ("exposure", "limit", "amount")  # decimal strings in ``data``, shown with their ``currency``


def render_title(template: Any, params: dict[str, Any]) -> str:
    """A title in the active language: amounts with the project's money formatting ("€56,268.52",
    "56 268,52 €"), legal-event kinds in words. ``params`` (the alert's data) stays machine-readable."""
    from relance.web.templatetags.relance import money

    values = dict(params)
    for key in MONEY_PARAMS:
        if key in values:
            values[key] = money(values[key], str(values.get("currency", "")))
    if values.get("kind") in LEGAL_KINDS:
        values["kind"] = str(LEGAL_KINDS[values["kind"]])
    return str(template).format(**values)


class LocalisedTitle:
    """A registered alert title (``alerts.models.register_title``): rendered from the alert's data when read."""

    def __init__(self, template: Any) -> None:
        self.template = template

    def __call__(self, data: dict[str, Any]) -> str:
        return render_title(self.template, data)


def title_for(kind: str, params: dict[str, Any]) -> str:
    """The stored title, in English (API, webhooks); pages and the digest show ``display_title``."""
    try:
        with translation.override("en"):
            return render_title(TITLES.get(kind, kind), params)
    except (KeyError, IndexError, ValueError, ArithmeticError):
        return kind


def monitored_customer_ids(as_of: dt.date) -> set[int]:
    """Customers that need a look today whatever changed: live monitored alerts (to clear them), invoices that
    fell due in the last 31 days, covers near expiry, promises broken in the last 30 days, recent legal events.
    Class changes come with the rescored customers (the daily job adds them)."""
    from relance.collections.models import Promise

    month = as_of - dt.timedelta(days=31)
    ids = set(
        Alert.objects.filter(kind__in=KINDS, cleared_on__isnull=True, customer__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    ids |= set(
        Document.objects.filter(type="invoice", open_amount__gt=0, due_date__gte=month, due_date__lt=as_of)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    ids |= set(
        CreditInsuranceCover.objects.filter(expires_on__gte=as_of, expires_on__lte=as_of + dt.timedelta(days=120))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    ids |= set(Promise.objects.filter(status="broken", resolved_on__gte=month).values_list("customer_id", flat=True))
    ids |= set(
        LegalEvent.objects.filter(published_on__gte=as_of - dt.timedelta(days=120))
        .exclude(legal_entity__accounts=None)
        .values_list("legal_entity__accounts__pk", flat=True)
    )
    return ids


def monitor(*, as_of: dt.date, customer_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Raise and clear the monitoring alerts of these customers (all scored customers when None)."""
    if customer_ids is None:
        ids = sorted(CustomerRisk.objects.values_list("customer_id", flat=True))
    else:
        ids = sorted(set(customer_ids))
    counts = {"customers": 0, "raised": 0, "cleared": 0}
    for i in range(0, len(ids), CHUNK):
        _monitor_chunk(ids[i : i + CHUNK], as_of=as_of, counts=counts)
    claims = claims_sync(as_of=as_of)
    counts.update(claims)
    return counts


def _monitor_chunk(ids: list[int], *, as_of: dt.date, counts: dict[str, int]) -> None:
    from relance.collections.models import Promise

    customers = {c.pk: c for c in Customer.objects.filter(pk__in=ids).select_related("company")}
    risks = {r.customer_id: r for r in CustomerRisk.objects.filter(customer_id__in=ids)}
    ids = [cid for cid in ids if cid in customers and cid in risks]
    if not ids:
        return
    group_cfg: dict[int, dict[str, Any]] = {}
    any_cfg = settings_for(customers[ids[0]].company.group_id)
    figures = queries.ledger_figures(ids, as_of=as_of, cfg=any_cfg)
    exposure = queries.exposures({cid: customers[cid].company.currency for cid in ids}, as_of=as_of)
    best: dict[int, str] = {}
    since = as_of - dt.timedelta(days=monitoring.DOWNGRADE_DAYS)
    for cid, cls in ScoreHistory.objects.filter(customer_id__in=ids, as_of__gt=since, as_of__lt=as_of).values_list(
        "customer_id", "risk_class"
    ):
        if cid not in best or domain.class_rank(cls) < domain.class_rank(best[cid]):
            best[cid] = cls
    cache = queries.RateCache(as_of)
    overdue: dict[int, list[monitoring.OverdueItem]] = defaultdict(list)
    for d in Document.objects.filter(
        customer_id__in=ids,
        type="invoice",
        open_amount__gt=0,
        due_date__lt=as_of,
        due_date__gte=as_of - dt.timedelta(days=monitoring.NEW_OVERDUE_DAYS),
    ).values("customer_id", "number", "open_amount", "currency", "due_date"):
        amount = cache.convert(Decimal(d["open_amount"]), d["currency"], customers[d["customer_id"]].company.currency)
        overdue[d["customer_id"]].append(monitoring.OverdueItem(d["number"], amount, d["due_date"]))
    by_entity: dict[int, list[tuple[str, str, dt.date]]] = defaultdict(list)
    entity_ids = {c.legal_entity_id for c in customers.values() if c.legal_entity_id}
    for e in LegalEvent.objects.filter(
        legal_entity_id__in=entity_ids, published_on__lte=as_of, published_on__gte=as_of - dt.timedelta(days=366)
    ).values("legal_entity_id", "reference", "kind", "published_on"):
        by_entity[e["legal_entity_id"]].append((e["reference"], e["kind"], e["published_on"]))
    covers: dict[int, list[monitoring.CoverIn]] = defaultdict(list)
    for c in CreditInsuranceCover.objects.filter(customer_id__in=ids).values(
        "id", "customer_id", "insurer", "expires_on", "valid_from"
    ):
        covers[c["customer_id"]].append(monitoring.CoverIn(c["id"], c["insurer"], c["expires_on"], c["valid_from"]))
    promises: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for p in Promise.objects.filter(
        customer_id__in=ids, status="broken", resolved_on__gte=as_of - dt.timedelta(days=monitoring.PROMISE_DAYS)
    ).values("id", "customer_id", "resolved_on"):
        promises[p["customer_id"]].append((p["id"], p["resolved_on"]))
    live: dict[int, dict[tuple[str, str], Alert]] = defaultdict(dict)
    for a in Alert.objects.filter(customer_id__in=ids, kind__in=KINDS, cleared_on__isnull=True):
        live[a.customer_id][(a.kind, a.key)] = a
    empty = queries.LedgerFigures(domain.BehaviourStats(), Decimal(0), 0)
    for cid in ids:
        customer, risk = customers[cid], risks[cid]
        gid = customer.company.group_id
        cfg = group_cfg.setdefault(gid, settings_for(gid))
        data = monitoring.MonitorInput(
            risk_class=risk.risk_class,
            best_recent_class=best.get(cid, ""),
            stats=figures.get(cid, empty).stats,
            exposure=exposure[cid].total,
            limit=queries.effective_limit(risk, as_of),
            limit_granted=risk.granted_limit is not None
            and (risk.granted_expires_on is None or risk.granted_expires_on >= as_of),
            currency=customer.company.currency,
            overdue_items=tuple(overdue.get(cid, ())),
            legal_events=tuple(by_entity.get(customer.legal_entity_id, ())),
            covers=tuple(covers.get(cid, ())),
            broken_promises=tuple(promises.get(cid, ())),
        )
        found = monitoring.conditions(data, as_of=as_of, cfg=cfg)
        wanted = {(c.kind, c.key): c for c in found}
        current = live.get(cid, {})
        for (kind, key), cond in wanted.items():
            if (kind, key) in current:
                continue
            _, created = alerts.alert_raise(
                kind=kind,
                company=customer.company,
                customer=customer,
                key=key,
                title=title_for(kind, cond.params),
                data=cond.params,
                as_of=as_of,
                severity=cond.severity,
            )
            counts["raised"] += int(created)
        for (kind, key), _alert in current.items():
            if (kind, key) in wanted:
                continue
            counts["cleared"] += alerts.alert_clear(
                kind=kind, company=customer.company, customer=customer, key=key, as_of=as_of
            )
        counts["customers"] += 1


def legal_events_apply(entity_ids: Iterable[int], *, as_of: dt.date, actor: Any = None) -> dict[str, Any]:
    """Make new or changed legal events take effect at once: rescore every account of these legal entities, in
    every company (class X, block and dunning stop on opening proceedings; a plan or closure lifts them), then
    run the monitoring for them (legal-event and downgrade alerts, insolvency claims)."""
    from . import scoring

    ids = sorted(set(Customer.objects.filter(legal_entity_id__in=set(entity_ids)).values_list("pk", flat=True)))
    if not ids:
        return {"customers": 0}
    result = scoring.rescore(as_of=as_of, customer_ids=ids, actor=actor)
    return {"customers": len(ids), "rescore": result.as_dict(), "monitoring": monitor(as_of=as_of, customer_ids=ids)}


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def claims_sync(*, as_of: dt.date) -> dict[str, int]:
    """Claims to declare for customers in proceedings (with an open balance), their deadline alert and reminders.

    The deadline is two months (``legal.claim_months``) from the publication of the opening judgment. A
    reminder alert is raised ``legal.claim_reminder_days`` before it; every claim alert clears once declared.
    """
    created = raised = cleared = 0
    stopped = CustomerRisk.objects.filter(dunning_stopped=True).values_list("customer_id", flat=True)
    customers = Customer.objects.filter(pk__in=list(stopped)).select_related("company")
    open_ids = set(
        Document.objects.filter(customer_id__in=[c.pk for c in customers], type="invoice", open_amount__gt=0)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    for customer in customers:
        event = (
            LegalEvent.objects.filter(legal_entity_id=customer.legal_entity_id, kind__in=OPENING_KINDS)
            .order_by("-published_on", "-id")
            .first()
        )
        if event is None or customer.pk not in open_ids:
            continue
        cfg = settings_for(customer.company.group_id)
        deadline = add_months(event.published_on, int(cfg["legal"]["claim_months"]))
        claim, new = Claim.objects.get_or_create(customer=customer, legal_event=event, defaults={"deadline": deadline})
        created += int(new)
    for claim in Claim.objects.select_related("customer__company"):
        key = f"claim:{claim.pk}"
        company: Company = claim.customer.company
        if claim.declared_on is not None:
            n = alerts.alert_clear(
                kind=monitoring.CLAIM_DEADLINE, company=company, customer=claim.customer, key=key, as_of=as_of
            )
            for alert in Alert.objects.filter(
                Q(key__startswith=f"{key}:"), kind=CLAIM_REMINDER, customer=claim.customer, cleared_on__isnull=True
            ):
                n += alerts.alert_clear(
                    kind=CLAIM_REMINDER, company=company, customer=claim.customer, key=alert.key, as_of=as_of
                )
            cleared += n
            continue
        params = {"deadline": claim.deadline.isoformat(), "reference": claim.legal_event.reference}
        _, new = alerts.alert_raise(
            kind=monitoring.CLAIM_DEADLINE,
            company=company,
            customer=claim.customer,
            key=key,
            title=title_for(monitoring.CLAIM_DEADLINE, params),
            data={**params, "claim_id": claim.pk},
            as_of=as_of,
            severity="critical",
        )
        raised += int(new)
        cfg = settings_for(company.group_id)
        left = (claim.deadline - as_of).days
        due = [d for d in cfg["legal"]["claim_reminder_days"] if 0 <= left <= int(d)]
        if due:
            days = int(min(due))
            _, new = alerts.alert_raise(
                kind=CLAIM_REMINDER,
                company=company,
                customer=claim.customer,
                key=f"{key}:{days}",
                title=title_for(CLAIM_REMINDER, {"days": left, "deadline": claim.deadline.isoformat()}),
                data={**params, "claim_id": claim.pk, "days": left},
                as_of=as_of,
                severity="critical",
            )
            raised += int(new)
    return {"claims_created": created, "claim_alerts_raised": raised, "claim_alerts_cleared": cleared}
