"""The daily dunning cycle: read the open ledger set-based, decide (``domain.decide``), record the intents.

:func:`cycle_run` is what ``relance cycle`` and the daily job call. For one business date it

1. refuses a date before the last completed run (unless ``dry_run``);
2. holds back the companies whose ledger data is older than their freshness limit, when run for today
   (an alert is raised; other dates — catch-up, tests, back-tests — are not held back);
3. reads every open document with its dunning level, the open disputes and promises, the unapplied cash and
   the unhandled replies in a few set-based queries (no per-row ORM), and decides per account;
4. records, in one transaction per batch, each communication as a ``DunningAction`` (the intent, status
   ``pending``; calls and hand-overs become tasks at once) together with the documents' new levels;
5. executes the pending intents (``outbox.execute``): e-mails, letters, SMS, each claimed before it is sent
   and its outcome recorded after, so a crash in between never sends twice.

The result lists the actions decided by this run only (``{"date", "actions": [...]}``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Q, Sum

from relance.core import audit, clock, errors
from relance.core.money import from_db
from relance.ledger.models import Contact, Customer, Document, Payment
from relance.orgs.models import Company
from relance.risk.selectors import dunning_stopped_customer_ids

from . import domain, writer
from .models import (
    ActionStatus,
    BadAddress,
    CycleRun,
    Dispute,
    Promise,
    Reply,
    TaskKind,
)
from .rules import active_rulebook, settings_for

DATE_BEFORE_LAST_RUN = (
    "A cycle for {date} was refused: the last completed run is for {last}. Runs go forward in time; "
    "use --dry-run to see what a past date would have done."
)
STALE_ALERT = "collections.stale_data"
BATCH = 10_000
TASK_CHANNELS = {"call": TaskKind.CALL, "litigation": TaskKind.HANDOVER, "agency": TaskKind.HANDOVER}
EMAIL_CHANNELS = {"email"}
SMS_CHANNELS = {"sms"}


@dataclass
class CycleResult:
    date: dt.date
    dry_run: bool
    actions: list[dict[str, Any]] = field(default_factory=list)
    held_companies: dict[str, str] = field(default_factory=dict)
    resumed: int = 0
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "dry_run": self.dry_run,
            "actions": self.actions,
            "held_companies": self.held_companies,
        }


# --- freshness ------------------------------------------------------------------------------------


def last_data_at(company: Company) -> dt.datetime | None:
    """When the company's ledger last received data: the latest import, or the latest document or payment write
    (API, pages, imports alike)."""
    from relance.ingest.models import ImportRun

    stamps = [
        ImportRun.objects.filter(company=company, status__in=["loaded", "partial"]).aggregate(m=Max("finished_at"))[
            "m"
        ],
        Document.objects.filter(company=company).aggregate(m=Max("updated_at"))["m"],
        Payment.objects.filter(company=company).aggregate(m=Max("updated_at"))["m"],
    ]
    stamps = [s for s in stamps if s is not None]
    return max(stamps) if stamps else None


def stale_companies(as_of: dt.date, companies: list[Company]) -> dict[int, str]:
    """Companies held back today, with the reason (raises or clears the stale-data alert of each)."""
    from relance.alerts import services as alerts

    out: dict[int, str] = {}
    if as_of != clock.today():
        return out
    now = clock.now()
    for company in companies:
        hours = settings_for(company).freshness_hours
        if not hours:
            continue
        last = last_data_at(company)
        if last is None:  # no ledger data at all: nothing to chase, nothing to hold back
            continue
        if now - last <= dt.timedelta(hours=hours):
            alerts.alert_clear(kind=STALE_ALERT, company=company, as_of=as_of)
            continue
        seen = last.isoformat(timespec="minutes")
        reason = f"ledger data older than {hours} h (last data: {seen})"
        out[company.pk] = reason
        alerts.alert_raise(
            kind=STALE_ALERT,
            company=company,
            title=f"Dunning held back for {company.code}: the ledger data is stale",
            message=f"No reminder is sent while the {reason}. Import fresh data, or change the freshness limit.",
            data={"last_data_at": last.isoformat(), "freshness_hours": hours},
            as_of=as_of,
        )
    return out


# --- reading the ledger set-based ----------------------------------------------------------------


def _customers(ids: set[int] | None) -> dict[int, tuple]:
    qs = Customer.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return {
        row[0]: row
        for row in qs.values_list(
            "pk", "company_id", "company__code", "reference", "risk_class", "payer_profile", "strategic", "country"
        ).iterator(chunk_size=10_000)
    }


def accounts(
    as_of: dt.date, book: domain.Rulebook, *, customer_ids: set[int] | None = None
) -> Iterator[domain.Account]:
    """Every account (customer × currency) with open documents that a step could concern on ``as_of``."""
    horizon = as_of - dt.timedelta(days=min((s.day for sc in book.scenarios.values() for s in sc.steps), default=0))
    docs = Document.objects.filter(open_amount__gt=0).filter(Q(type="credit_note") | Q(due_date__lte=horizon))
    if customer_ids is not None:
        docs = docs.filter(customer_id__in=customer_ids)
    through = Dispute.documents.through
    disputed = set(
        through.objects.filter(dispute__status="open").values_list("document_id", flat=True).iterator(chunk_size=10_000)
    )
    ptrough = Promise.documents.through
    promised = set(
        ptrough.objects.filter(promise__status="open").values_list("document_id", flat=True).iterator(chunk_size=10_000)
    )
    account_promises = set(
        Promise.objects.filter(status="open", documents__isnull=True).values_list("customer_id", "currency")
    )
    cash: dict[tuple[int, str], Decimal] = {}
    for cid, cur, total in (
        Payment.objects.filter(unallocated_amount__gt=0, returned_on__isnull=True, customer__isnull=False)
        .values_list("customer_id", "currency")
        .annotate(total=Sum("unallocated_amount"))
        .values_list("customer_id", "currency", "total")
    ):
        cash[(cid, cur)] = from_db(total, cur)
    stopped = dunning_stopped_customer_ids()  # insolvency proceedings: every account of the legal entity
    waiting = set(
        Reply.objects.filter(handled_at__isnull=True, customer__isnull=False).values_list("customer_id", flat=True)
    )
    rows = docs.order_by("customer_id", "currency", "due_date", "pk").values_list(
        "pk", "number", "type", "customer_id", "currency", "due_date", "open_amount", "dunning_state__level"
    )
    customers: dict[int, tuple] | None = None
    current: tuple[int, str] | None = None
    items: list[domain.Item] = []

    def flush() -> domain.Account | None:
        nonlocal customers
        if current is None or not items:
            return None
        if customers is None:
            customers = _customers(customer_ids)
        cid, cur = current
        _, company_id, code, ref, risk, profile, strategic, country = customers[cid]
        held = ""
        if cid in stopped:
            held = domain.INSOLVENCY
        elif cid in waiting:
            held = domain.REPLY_PENDING
        elif (cid, cur) in account_promises:
            held = domain.PROMISED
        return domain.Account(
            customer_id=cid,
            company_id=company_id,
            currency=cur,
            items=tuple(items),
            company_code=code,
            customer_ref=ref,
            risk_class=risk,
            payer_profile=profile,
            strategic=strategic,
            country=country,
            unapplied_cash=cash.get((cid, cur), Decimal(0)),
            held=held,
        )

    for pk, number, kind, cid, cur, due, open_amount, level in rows.iterator(chunk_size=10_000):
        if (cid, cur) != current:
            account = flush()
            if account is not None:
                yield account
            current, items = (cid, cur), []
        items.append(
            domain.Item(
                id=pk,
                number=number,
                due_date=due,
                open_amount=open_amount if isinstance(open_amount, Decimal) else from_db(open_amount, cur),
                credit_note=kind == "credit_note",
                level=domain.NO_LEVEL if level is None else level,
                disputed=pk in disputed,
                promised=pk in promised,
            )
        )
    account = flush()
    if account is not None:
        yield account


def mailable_customers(customer_ids: set[int]) -> set[int]:
    """Customers with a contact e-mail that has not bounced."""
    bad = set(BadAddress.objects.values_list("email", flat=True))
    out: set[int] = set()
    for cid, email in (
        Contact.objects.exclude(email="").filter(customer_id__in=customer_ids).values_list("customer_id", "email")
    ):
        if email.lower() not in bad:
            out.add(cid)
    return out


# --- recording ------------------------------------------------------------------------------------


def _key(as_of: dt.date, action: domain.Action, channel: str) -> str:
    docs = hashlib.sha256(",".join(map(str, action.documents)).encode()).hexdigest()[:12]
    return f"{as_of.isoformat()}:{action.customer_id}:{action.currency}:{channel}:{action.step}:{docs}"


def reference_for(key: str) -> str:
    """A short, unique, stable reference for a reminder (the customer quotes it; replies are threaded by it)."""
    return "R" + hashlib.sha256(key.encode()).hexdigest()[:12].upper()


def _channel(action: domain.Action, mailable: set[int]) -> str:
    """E-mail and SMS fall back to a letter when the customer has no usable address."""
    if action.channel in EMAIL_CHANNELS | SMS_CHANNELS and action.customer_id not in mailable:
        return "letter"
    return action.channel


def record(
    decided: list[domain.Action], as_of: dt.date, numbers: dict[int, str], version: int, collectors: dict[int, Any]
) -> list[writer.Recorded]:
    """Write the intents, tasks and new levels of a batch of decided actions (one transaction, set-based)."""
    todo = [a for a in decided if not a.skipped]
    mailable = mailable_customers({a.customer_id for a in todo if a.channel in EMAIL_CHANNELS | SMS_CHANNELS})
    rows: list[dict[str, Any]] = []
    for a in todo:
        channel = _channel(a, mailable)
        key = _key(as_of, a, channel)
        rows.append(
            {
                "company_id": a.company_id,
                "customer_id": a.customer_id,
                "currency": a.currency,
                "run_date": as_of,
                "key": key,
                "reference": reference_for(key),
                "scenario": a.scenario,
                "rulebook_version": version,
                "step": a.step,
                "step_day": a.step_day,
                "channel": channel,
                "tone": a.tone,
                "template": a.template,
                "document_ids": list(a.documents),
                "numbers": [numbers[d] for d in a.documents],
                "amount": a.amount,
                "status": ActionStatus.TASK_CREATED if channel in TASK_CHANNELS else ActionStatus.PENDING,
            }
        )
    with transaction.atomic():
        ids = writer.actions(rows)
        writer.tasks(
            [
                {
                    "company_id": r["company_id"],
                    "customer_id": r["customer_id"],
                    "kind": TASK_CHANNELS[r["channel"]],
                    "title": f"{r['step']}: {', '.join(r['numbers'][:5])}{'…' if len(r['numbers']) > 5 else ''}",
                    "due_on": as_of,
                    "assignee_id": collectors.get(r["customer_id"]),
                    "action_id": ids[r["key"]],
                    "data": {"reference": r["reference"], "amount": str(r["amount"]), "currency": r["currency"]},
                }
                for r in rows
                if r["channel"] in TASK_CHANNELS
            ]
        )
        writer.levels(
            [
                (doc, r["customer_id"], level, r["step"], ids[r["key"]], as_of)
                for a, r in zip(todo, rows, strict=True)
                for doc, level in a.levels.items()
            ]
        )
    return [writer.Recorded(ids[r["key"]], r["status"], r["channel"], r["reference"], r["customer_id"]) for r in rows]


def _json_action(
    a: domain.Action,
    numbers: dict[int, str],
    companies: dict[int, str],
    refs: dict[int, str],
    status: str,
    channel: str | None = None,
    reason: str = "",
    reference: str = "",
) -> dict[str, Any]:
    out = {
        "company": companies[a.company_id],
        "customer_ref": refs[a.customer_id],
        "currency": a.currency,
        "step": a.step,
        "channel": channel or a.channel,
        "documents": [numbers[d] for d in a.documents],
        "status": status,
    }
    if reason:
        out["reason"] = reason
    if reference:
        out["reference"] = reference
    return out


def last_completed() -> dt.date | None:
    return CycleRun.objects.filter(status="done").aggregate(m=Max("date"))["m"]


def cycle_run(
    *,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    actor: Any = audit.SYSTEM,
    execute: bool = True,
    sender: Any = None,
) -> CycleResult:
    """Run the dunning cycle for ``as_of`` (default: today). See the module docstring."""
    from . import outbox

    as_of = as_of or clock.today()
    last = last_completed()
    if not dry_run and last is not None and as_of < last:
        raise errors.ValidationError(DATE_BEFORE_LAST_RUN.format(date=as_of, last=last), field="date")
    book, version = active_rulebook()
    companies = list(Company.objects.all())
    codes = {c.pk: c.code for c in companies}
    held = stale_companies(as_of, companies)
    result = CycleResult(date=as_of, dry_run=dry_run, held_companies={codes[k]: v for k, v in held.items()})
    run = None
    if not dry_run:
        run = CycleRun.objects.create(date=as_of, started_at=clock.now(), actor_label=audit.actor_label(actor))
        result.run_id = run.pk
    refs: dict[int, str] = {}
    collectors: dict[int, Any] = {}
    batch: list[domain.Action] = []
    numbers: dict[int, str] = {}
    counts: dict[str, int] = defaultdict(int)

    def flush() -> None:
        if not batch:
            return
        if not refs or any(a.customer_id not in refs for a in batch):
            for pk, ref, collector in Customer.objects.filter(pk__in={a.customer_id for a in batch}).values_list(
                "pk", "reference", "collector_id"
            ):
                refs[pk], collectors[pk] = ref, collector
        rows = [] if dry_run else record(batch, as_of, numbers, version, collectors)
        todo = iter(rows)
        for a in batch:
            if a.skipped:
                result.actions.append(_json_action(a, numbers, codes, refs, "skipped", reason=a.reason))
                counts["skipped"] += 1
            elif dry_run:
                result.actions.append(_json_action(a, numbers, codes, refs, "queued"))
                counts["queued"] += 1
            else:
                row = next(todo)
                entry = _json_action(a, numbers, codes, refs, row.status, channel=row.channel, reference=row.reference)
                entry["_id"] = row.pk
                result.actions.append(entry)
        batch.clear()
        numbers.clear()

    for account in accounts(as_of, book):
        if account.company_id in held:
            account = domain.Account(**{**account.__dict__, "held": domain.STALE_DATA})
        decided = domain.decide(account, book, as_of)
        if not decided:
            continue
        for item in account.items:
            numbers[item.id] = item.number
        batch.extend(decided)
        if len(batch) >= BATCH:
            flush()
    flush()
    if not dry_run and execute:
        by_id = {a["_id"]: a for a in result.actions if "_id" in a}
        for action_id, status, reason in outbox.execute(as_of=as_of, sender=sender):
            if action_id in by_id:
                by_id[action_id]["status"] = status
                if reason:
                    by_id[action_id]["reason"] = reason
            else:
                result.resumed += 1
    for entry in result.actions:
        entry.pop("_id", None)
        if entry["status"] == ActionStatus.PENDING:
            entry["status"] = "queued"
        counts[entry["status"]] += 0 if entry["status"] == "skipped" else 1
    if run is not None:
        run.status = "done"
        run.finished_at = clock.now()
        run.counts = {**counts, "resumed": result.resumed, "held_companies": len(held)}
        run.save(update_fields=["status", "finished_at", "counts"])
    return result
