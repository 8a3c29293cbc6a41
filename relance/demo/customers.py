"""Demo customer accounts: who they are, how they pay, how much they buy (pure, deterministic per seed).

Some French businesses buy from both French companies: their two accounts share a SIREN and so one
legal entity (key ``SIREN:<siren>``, as relance.ledger.services.legal_entity_resolve would resolve it).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from relance.core.vocab import CompanySize, ContactRole, CustomerKind, PayerProfile, PaymentMethod

from . import identifiers as ids
from . import words
from .behaviour import PROFILE_WEIGHTS, Behaviour
from .org import Org
from .simulate import CustomerPlan, weighted

CONSUMER_RATE = 0.06
SHARED_ENTITY_RATE = 0.10  # of FR2 business accounts: same legal entity as an FR1 account
IRISH_RATE = 0.08  # of UK1 accounts: Irish businesses, invoiced in EUR
SIZES = ((CompanySize.MICRO.value, 30), (CompanySize.SMALL.value, 35), (CompanySize.MEDIUM.value, 23),
         (CompanySize.LARGE.value, 12))  # fmt: skip
MEDIAN_CENTS = {"micro": 30_000, "small": 80_000, "medium": 200_000, "large": 500_000, "": 12_000}
VOLUME = {"micro": 0.5, "small": 1.0, "medium": 2.0, "large": 4.0, "": 0.25}
TERMS_FR = ((30, 45), (45, 20), (60, 30), (15, 5))
TERMS_UK = ((30, 80), (14, 10), (60, 10))
TERMS_CONSUMER = ((0, 50), (15, 50))
METHODS_FR = ((PaymentMethod.TRANSFER.value, 65), (PaymentMethod.BILL.value, 10), (PaymentMethod.CHECK.value, 12),
              (PaymentMethod.DIRECT_DEBIT.value, 13))  # fmt: skip
METHODS_UK = ((PaymentMethod.TRANSFER.value, 75), (PaymentMethod.DIRECT_DEBIT.value, 20),
              (PaymentMethod.CHECK.value, 5))  # fmt: skip
METHODS_CONSUMER = ((PaymentMethod.CARD.value, 50), (PaymentMethod.DIRECT_DEBIT.value, 40),
                    (PaymentMethod.CHECK.value, 10))  # fmt: skip


@dataclass(slots=True)
class Account:
    """One customer account: its columns (for the customer row) and its plan (for the ledger)."""

    plan: CustomerPlan
    company_code: str
    reference: str
    entity_key: str
    siren: str
    siret: str
    vat_number: str
    country: str
    sector_code: str
    size: str
    strategic: bool
    agency_code: str
    sales_rep_id: int | None
    profile: str
    contacts: list[tuple[str, str, str, str, bool, str]] = field(default_factory=list)  # name, email, phone, role...
    note: str = ""


def spread(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), at least ``minimum`` each when possible."""
    n = len(weights)
    if n == 0:
        return []
    floor = minimum if total >= minimum * n else 0
    rest = total - floor * n
    wsum = sum(weights) or 1.0
    raw = [rest * w / wsum for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(n), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + floor for c in counts]


def slots(rng: random.Random, n: int, table: tuple[tuple[str, int], ...]) -> list[str]:
    """``n`` values in the proportions of ``table``, each present at least once when n allows, shuffled."""
    counts = spread(n, [float(w) for _, w in table], minimum=1)
    out = [value for (value, _), k in zip(table, counts, strict=True) for _ in range(k)]
    rng.shuffle(out)
    return out


def plan_accounts(*, seed: int, customers: int, invoices: int, as_of: dt.date, org: Org) -> list[Account]:
    """The customer accounts, in creation order, with their payer behaviour and invoice counts."""
    master = random.Random(f"relance-demo:{seed}:customers")
    a = as_of.toordinal()
    start = _years_before(as_of, 3).toordinal() + 1
    company_codes = slots(master, customers, tuple((s.code, s.share) for s in org.specs.values()))
    profiles = slots(master, customers, tuple((p.value, w) for p, w in PROFILE_WEIGHTS))
    receivership = next(
        (i for i, (c, p) in enumerate(zip(company_codes, profiles, strict=True)) if c == "FR1" and p == "defaulting"),
        None,
    )
    per_company: dict[str, int] = {}
    names: set[str] = set()
    fr1_entities: list[Account] = []
    shared: set[str] = set()
    accounts: list[Account] = []
    weights: list[float] = []
    for i in range(customers):
        rng = random.Random(f"relance-demo:{seed}:customer:{i}")
        code = company_codes[i]
        spec = org.specs[code]
        company = org.companies[code]
        profile = profiles[i]
        per_company[code] = per_company.get(code, 0) + 1
        reference = f"{'CLI' if spec.style == 'fr' else 'CUS'}{per_company[code]:05d}"
        is_receivership = i == receivership
        country = spec.country
        if country == "GB" and rng.random() < IRISH_RATE:
            country = "IE"
        currency = "EUR" if country == "IE" else spec.currency
        consumer = not is_receivership and rng.random() < CONSUMER_RATE
        kind = CustomerKind.CONSUMER.value if consumer else CustomerKind.BUSINESS.value
        language = "fr" if spec.style == "fr" and rng.random() < 0.95 else "en"
        size = "" if consumer else (CompanySize.LARGE.value if is_receivership else weighted(rng, SIZES))
        entity_key = siren = siret = vat = sector = ""
        if consumer:
            first, last = words.person_name(rng, "fr" if country == "FR" else "en")
            name = f"{first} {last}"
            trade = -1
        else:
            name, trade = words.business_name(rng, "FR" if country == "FR" else country)
            if is_receivership:
                # Receivership-like: a large, long-standing account that stopped paying months ago
                # (profile "defaulting"). The risk issue should classify it X (insolvency proceedings)
                # and stop its dunning; here it only gets the defaulting behaviour and a telling name.
                name, trade = "Établissements Vasseur & Fils SA", 16
        # the same French business as an FR1 account: same SIREN, same legal entity, another establishment
        twin = None
        if code == "FR2" and not consumer and fr1_entities and rng.random() < SHARED_ENTITY_RATE:
            twin = rng.choice(fr1_entities)
            if twin.siren in shared:
                twin = None
        if twin is not None:
            shared.add(twin.siren)
            name, siren, vat, entity_key = twin.plan.name, twin.siren, twin.vat_number, twin.entity_key
            siret, sector = ids.siret(siren, rng.randrange(20, 9999)), twin.sector_code
        else:
            for attempt in range(6):
                if name not in names:
                    break
                if consumer:
                    first, last = words.person_name(rng, "fr" if country == "FR" else "en")
                    name = f"{first} {last}"
                elif attempt < 5:
                    name, trade = words.business_name(rng, "FR" if country == "FR" else country)
                else:
                    name = f"{name} ({rng.choice(words.FR_CITIES if country == 'FR' else words.UK_CITIES)})"
            names.add(name)
            if consumer:
                entity_key = f"REF:{code}:{reference}"
            elif country == "FR":
                siren = ids.siren(rng)
                siret, vat = ids.siret(siren, rng.randrange(10, 200)), ids.fr_vat(siren)
                entity_key = f"SIREN:{siren}"
            else:
                vat = ids.gb_vat_number(rng) if country == "GB" else ids.ie_vat_number(rng)
                entity_key = f"VAT:{vat}"
            if trade >= 0:
                naf = words.TRADES[trade][2]
                sector = naf if country == "FR" else words.uk_sic(naf)
        agency = weighted(rng, tuple((ag, share) for ag, _, share in spec.agencies))
        if consumer:
            terms = weighted(rng, TERMS_CONSUMER)
            method = weighted(rng, METHODS_CONSUMER)
        else:
            terms = weighted(rng, TERMS_FR if spec.style == "fr" else TERMS_UK)
            method = weighted(rng, METHODS_FR if spec.style == "fr" else METHODS_UK)
        strategic = (size == "large" and rng.random() < 0.35) or (size == "medium" and rng.random() < 0.05)
        batch = not consumer and method == PaymentMethod.TRANSFER and rng.random() < 0.55
        deposits = size in ("medium", "large") and rng.random() < 0.15
        # first and last invoicing days; the telling profiles keep the whole history
        first_day = start
        if profile not in ("deteriorating", "defaulting") and rng.random() < 0.22:
            first_day = rng.randint(start, max(start, a - 120))
        last_day, stop, drift_from = a, 0, 0
        if profile == PayerProfile.DEFAULTING:
            stop = a - (130 if is_receivership else rng.randint(60, 150))
            last_day = min(a, stop + (50 if is_receivership else rng.randint(20, 50)))
        elif profile == PayerProfile.DETERIORATING:
            drift_from = a - rng.randint(210, 300)
        behaviour = Behaviour(profile=profile, as_of=a, drift_from=drift_from, stop=stop, terms=terms)
        median = int(MEDIAN_CENTS[size] * rng.lognormvariate(0.0, 0.35))
        volume = VOLUME[size] * rng.lognormvariate(0.0, 0.8)
        if profile in ("deteriorating", "defaulting"):
            volume *= 1.5  # enough invoices for their story to show
        if is_receivership:
            volume = max(volume, 6.0)
        weights.append(volume)
        plan = CustomerPlan(
            index=i,
            id=0,
            company_id=company.pk,
            style=spec.style,
            currency=currency,
            language=language,
            kind=kind,
            name=name,
            terms=terms,
            taxed=country != "IE",
            behaviour=behaviour,
            batch=batch,
            method=method,
            deposits=deposits,
            n_invoices=0,
            first_day=first_day,
            last_day=last_day,
            median=max(median, 2_000),
            collector_id=org.collector_of.get(agency),
        )
        account = Account(
            plan=plan,
            company_code=code,
            reference=reference,
            entity_key=entity_key,
            siren=siren,
            siret=siret,
            vat_number=vat,
            country=country,
            sector_code=sector,
            size=size,
            strategic=strategic,
            agency_code=agency,
            sales_rep_id=org.sales_rep_of.get(agency),
            profile=profile,
            note="receivership-like" if is_receivership else "",
        )
        account.contacts = _contacts(rng, account, consumer)
        accounts.append(account)
        if code == "FR1" and not consumer and twin is None:
            fr1_entities.append(account)
    for account, n in zip(accounts, spread(invoices, weights, minimum=1), strict=True):
        account.plan.n_invoices = n
    return accounts


def _contacts(rng: random.Random, account: Account, consumer: bool) -> list[tuple[str, str, str, str, bool, str]]:
    plan = account.plan
    lang = plan.language
    if consumer:
        first, last = plan.name.split(" ", 1)
        mail = f"{words.ascii_slug(first)}.{words.ascii_slug(last)}{plan.index}@mail.example"
        return [(plan.name, mail, words.phone(rng, account.country), ContactRole.ACCOUNTS_PAYABLE.value, True, lang)]
    domain = words.ascii_slug(plan.name.rsplit(" ", 1)[0])[:40].strip("-") + ".example"
    first, last = words.person_name(rng, lang)
    box = "comptabilite" if lang == "fr" else "accounts"
    out = [
        (
            f"{first} {last}",
            f"{box}@{domain}",
            words.phone(rng, account.country),
            ContactRole.ACCOUNTS_PAYABLE.value,
            True,
            lang,
        )
    ]
    if rng.random() < 0.4:
        first, last = words.person_name(rng, lang)
        role = rng.choice((ContactRole.FINANCE.value, ContactRole.PURCHASING.value, ContactRole.MANAGEMENT.value))
        mail = f"{words.ascii_slug(first)}.{words.ascii_slug(last)}@{domain}"
        out.append((f"{first} {last}", mail, words.phone(rng, account.country), role, False, lang))
    return out


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
