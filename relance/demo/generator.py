"""The whole demo run: organisation, customers, three years of ledger, exchange rates, one audit row.

Streamed by customer chunks (memory stays bounded), written with set-based inserts, all in one
transaction: an interrupted run leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from tqdm import tqdm

from relance.core import audit, clock
from relance.orgs.models import Company

from . import DEFAULT_CUSTOMERS, DEFAULT_INVOICES, DEFAULT_SEED, writer
from . import risk as demo_risk
from .customers import Account, _years_before, plan_accounts
from .org import ACTOR, Login, Org, create_org
from .simulate import PREFIXES, SOURCE, Simulator, Tables

CHUNK_INVOICES = 20_000  # invoices per insert round: bounds memory, larger rounds are not faster
NOT_EMPTY = (
    "The database already has {n} compan{ies} ({codes}): `relance demo` only fills an empty database, "
    "so that the demo is never mixed with real data nor loaded twice. Use a fresh database, e.g. "
    "`RELANCE_SQLITE_PATH=var/demo.sqlite3 relance migrate && RELANCE_SQLITE_PATH=var/demo.sqlite3 relance demo`."
)


class NotEmpty(Exception):
    """The database already has companies."""


class OptionError(ValueError):
    """An option out of range; the message names it."""


@dataclass(frozen=True)
class Options:
    customers: int = DEFAULT_CUSTOMERS
    invoices: int = DEFAULT_INVOICES
    seed: int = DEFAULT_SEED
    as_of: dt.date | None = None

    def check(self) -> None:
        if self.customers < 1:
            raise OptionError("--customers must be at least 1.")
        if self.invoices < 0:
            raise OptionError("--invoices cannot be negative.")


@dataclass
class Summary:
    seed: int
    as_of: dt.date
    seconds: float
    counts: dict[str, int]
    logins: list[Login]
    highlights: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.counts["rows"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "created",
            "seed": self.seed,
            "as_of": self.as_of.isoformat(),
            "seconds": round(self.seconds, 2),
            "counts": self.counts,
            "logins": [login.as_dict() for login in self.logins],
            "highlights": self.highlights,
        }


def existing_companies() -> list[str]:
    return list(Company.objects.order_by("code").values_list("code", flat=True))


def not_empty_message(codes: list[str]) -> str:
    n = len(codes)
    return NOT_EMPTY.format(n=n, ies="y" if n == 1 else "ies", codes=", ".join(codes[:5]) + ("…" if n > 5 else ""))


def generate(options: Options, *, progress: bool = False, log: Callable[[str], None] | None = None) -> Summary:
    """Fill an empty database with the demo group. Raises NotEmpty if it already has a company."""
    options.check()
    writer.check_schema()
    as_of = options.as_of or clock.today()
    say = log or (lambda _msg: None)
    began = time.perf_counter()
    with transaction.atomic():
        codes = existing_companies()
        if codes:
            raise NotEmpty(not_empty_message(codes))
        say("Creating the group, companies, agencies and users…")
        org = create_org(options.seed)
        say(f"Planning {options.customers:,} customers and {options.invoices:,} invoices…")
        accounts = plan_accounts(
            seed=options.seed, customers=options.customers, invoices=options.invoices, as_of=as_of, org=org
        )
        start = _years_before(as_of, 3)
        tables = Tables(
            start.toordinal() - 400,
            as_of.toordinal() + 400,
            adapt_date=connection.ops.adapt_datefield_value,
            adapt_ts=connection.ops.adapt_datetimefield_value,
        )
        suspended = writer.suspend_indexes(list(writer.LEDGER_TABLES.values()))
        counts: Counter = Counter()
        counts.update(_write_accounts(accounts, tables, org))
        sim = _write_ledger(options.seed, accounts, tables, as_of, counts, progress)
        stats = sim.out.stats
        counts["rates"] = _write_rates(options.seed, start, as_of)
        counts["payments"] += _write_unidentified(options.seed, org, accounts, tables, as_of, sim)
        say("Building the indexes…")
        writer.restore_indexes(suspended)
        writer.reset_sequences()
        counts["rows"] = sum(counts.values())
        totals = _counts(org, counts, stats)
        highlights = _highlights(accounts)
        audit.record(
            actor=ACTOR,
            action="demo.generate",
            obj=org.group,
            changes={"seed": options.seed, "as_of": as_of.isoformat(), "counts": totals},
            message=(
                f"Demo data generated: {totals['customers']:,} customers, {totals['invoices']:,} invoices, "
                f"{totals['payments']:,} payments. Company time zones set: "
                + ", ".join(f"{c.code} {c.timezone}" for c in org.companies.values())
            ),
        )
    say("Refreshing the planner's statistics…")
    writer.finish()
    say("Scoring the customers and running the risk monitoring…")
    risk = demo_risk.apply(
        as_of=as_of, deteriorating=[(a.company_code, a.reference) for a in accounts if a.profile == "deteriorating"]
    )
    say(
        f"Risk: {risk['scored']:,} customers scored, {risk['raised']:,} alerts raised, "
        f"{risk['claims_created']} claim(s) to declare."
    )
    return Summary(
        seed=options.seed,
        as_of=as_of,
        seconds=time.perf_counter() - began,
        counts=totals,
        logins=org.logins,
        highlights=highlights,
    )


def _write_accounts(accounts: list[Account], tables: Tables, org: Org) -> dict[str, int]:
    first_ids = {name: writer.next_id(spec) for name, spec in (("le", writer.LEGAL_ENTITIES), ("cu", writer.CUSTOMERS))}
    entity_ids: dict[str, int] = {}
    entities, customers, contacts = [], [], []
    base, ts = tables.base, tables.ts
    for offset, account in enumerate(accounts):
        plan = account.plan
        plan.id = first_ids["cu"] + offset
        created = ts[plan.first_day - 30 - base]
        entity_id = entity_ids.get(account.entity_key)
        if entity_id is None:
            entity_id = entity_ids[account.entity_key] = first_ids["le"] + len(entities)
            entities.append(
                (
                    entity_id,
                    account.entity_key,
                    plan.name,
                    account.country,
                    account.siren,
                    account.vat_number,
                    created,
                    created,
                )
            )
        customers.append(
            (
                plan.id,
                plan.company_id,
                account.reference,
                plan.name,
                entity_id,
                account.siren,
                account.siret,
                account.vat_number,
                account.country,
                account.sector_code,
                account.size,
                plan.language,
                plan.terms,
                plan.kind,
                account.strategic,
                org.agencies[account.agency_code].pk if account.agency_code else None,
                plan.collector_id,
                account.sales_rep_id,
                account.profile,
                "",
                created,
                created,
            )
        )
        contacts.extend((plan.id, *contact) for contact in account.contacts)
    return {
        "legal_entities": writer.insert(writer.LEGAL_ENTITIES, entities),
        "customers": writer.insert(writer.CUSTOMERS, customers),
        "contacts": writer.insert(writer.CONTACTS, contacts),
    }


def _write_ledger(
    seed: int, accounts: list[Account], tables: Tables, as_of: dt.date, counts: Counter, progress: bool
) -> Simulator:
    sim = Simulator(
        tables,
        as_of=as_of.toordinal(),
        next_ids={
            "documents": writer.next_id(writer.DOCUMENTS),
            "payments": writer.next_id(writer.PAYMENTS),
            "disputes": writer.next_id(writer.DISPUTES),
        },
    )
    total = sum(a.plan.n_invoices for a in accounts)
    bar = tqdm(
        total=total,
        unit=" invoices",
        unit_scale=True,
        desc="Ledger",
        file=sys.stderr,
        disable=not progress,
        smoothing=0.1,
    )
    pending = 0

    def flush() -> None:
        for name, rows in sim.out.take().items():
            counts[name] += writer.insert(writer.LEDGER_TABLES[name], rows)

    with bar:
        for account in accounts:
            sim.customer(account.plan, random.Random(f"relance-demo:{seed}:ledger:{account.plan.index}"))
            pending += account.plan.n_invoices
            if pending >= CHUNK_INVOICES:
                flush()
                bar.update(pending)
                pending = 0
        flush()
        bar.update(pending)
    return sim


def _write_unidentified(
    seed: int, org: Org, accounts: list[Account], tables: Tables, as_of: dt.date, sim: Simulator
) -> int:
    """Recent transfers nobody has matched yet (no customer): the cash-application queue's raw material.

    They continue the simulator's payment ids and references.
    """
    rng = random.Random(f"relance-demo:{seed}:unidentified")
    a, base = as_of.toordinal(), tables.base
    rows = []
    by_company: dict[int, list[Account]] = {}
    for account in accounts:
        by_company.setdefault(account.plan.company_id, []).append(account)
    for code, company in org.companies.items():
        mine = by_company.get(company.pk, [])
        prefix = PREFIXES[org.specs[code].style][2]
        for _ in range(max(3, len(mine) // 50)):
            day = a - rng.randint(1, 45)
            if mine and rng.random() < 0.7:
                # a known customer paying under a shortened name, without any invoice reference
                payer = mine[rng.randrange(len(mine))].plan.name.upper().rsplit(" ", 1)[0][:30]
            else:
                payer = rng.choice(("M. OU MME ", "MR ", "SOC ")) + rng.choice(("BERTIN", "MOREL", "HARPER", "KELLY"))
            cents = int(math.exp(rng.uniform(math.log(5_000), math.log(2_000_000))))
            amount = Decimal(cents).scaleb(-2)
            label = "VIR SEPA" if org.specs[code].style == "fr" else "FASTER PAYMENT"
            rows.append(
                (
                    sim.next_pay,
                    company.pk,
                    None,
                    sim.number(company.pk, prefix, day, 5),
                    "payment",
                    tables.date[day - base],
                    company.currency,
                    amount,
                    amount,
                    "transfer",
                    f"{label} {payer}",
                    payer,
                    SOURCE,
                    None,  # returned_on
                    tables.ts[day - base],
                    tables.ts[day - base],
                )
            )
            sim.next_pay += 1
    sim.out.stats["unidentified_payments"] = len(rows)
    return writer.insert(writer.PAYMENTS, rows)


def _write_rates(seed: int, start: dt.date, as_of: dt.date) -> int:
    """Daily GBP per EUR reference rates on business days (as the ECB publishes), mean-reverting around 0.865.

    Generated as floats, then rounded to five decimals (ECB precision) into a Decimal.
    """
    rng = random.Random(f"relance-demo:{seed}:rates")
    x = 0.865
    rows = []
    day = start - dt.timedelta(days=7)
    while day <= as_of:
        if day.weekday() < 5 and (day.month, day.day) not in ((1, 1), (5, 1), (12, 25), (12, 26)):
            x += 0.02 * (0.865 - x) + rng.gauss(0.0, 0.0018)
            x = min(max(x, 0.8300), 0.9000)
            rate = Decimal(round(x * 100_000)).scaleb(-5)
            rows.append((connection.ops.adapt_datefield_value(day), "GBP", "EUR", rate, SOURCE))
        day += dt.timedelta(days=1)
    return writer.insert(writer.EXCHANGE_RATES, rows)


def _counts(org: Org, counts: Counter, stats: Counter) -> dict[str, int]:
    return {
        "companies": len(org.companies),
        "agencies": len(org.agencies),
        "users": len(org.users),
        "legal_entities": counts["legal_entities"],
        "customers": counts["customers"],
        "contacts": counts["contacts"],
        "documents": counts["documents"],
        "invoices": stats["invoices"],
        "credit_notes": stats["credit_notes"],
        "open_credit_notes": stats["open_credit_notes"],
        "open_invoices": stats["open_invoices"],
        "overdue_invoices": stats["overdue_invoices"],
        "payments": counts["payments"],
        "deposits": stats["deposits"],
        "unallocated_deposits": stats["unallocated_deposits"],
        "unidentified_payments": stats["unidentified_payments"],
        "multi_invoice_payments": stats["multi_invoice_payments"],
        "partially_paid_invoices": stats["partially_paid_invoices"],
        "allocations": counts["allocations"],
        "disputes": counts["disputes"],
        "open_disputes": stats["disputes_open"],
        "rates": counts["rates"],
        "rows": counts["rows"],
    }


def _highlights(accounts: list[Account]) -> dict[str, str]:
    """One example account per story (the busiest business account of each profile), to find them quickly."""
    out: dict[str, str] = {}
    best: dict[str, Account] = {}
    for account in accounts:
        if account.note:
            out[account.note.replace("-", "_")] = f"{account.company_code} {account.reference} {account.plan.name}"
        elif account.plan.kind == "business":
            current = best.get(account.profile)
            if current is None or account.plan.n_invoices > current.plan.n_invoices:
                best[account.profile] = account
    for profile, account in sorted(best.items()):
        out[profile] = f"{account.company_code} {account.reference} {account.plan.name}"
    sirens = Counter(a.siren for a in accounts if a.siren)
    shared = next((s for s, n in sirens.items() if n > 1), None)
    if shared:
        accounts_of = ", ".join(f"{a.company_code} {a.reference}" for a in accounts if a.siren == shared)
        out["shared_legal_entity"] = f"SIREN:{shared} ({accounts_of})"
    return out
