"""Analytics' own summary tables: customers' payment behaviour, daily positions and flows by cell (refreshed by
the daily job and `relance kpi-refresh`; read only while the ledger has not changed since, see summaries.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import AMOUNT, Customer
from relance.orgs.models import Agency, Company


class CustomerBehaviour(models.Model):
    """A customer's payments of the 365 days up to ``as_of``: amount-weighted mean delay (payment − due date)
    and days to pay (payment − issue date). Used by the cash forecast; recomputed whole by
    ``analytics.services.behaviour_refresh``."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="behaviour")
    as_of = models.DateField(_("computed at"))
    delay_days = models.IntegerField(_("mean delay (days)"))
    days_to_pay = models.IntegerField(_("mean days to pay"))
    payments = models.PositiveIntegerField(_("allocations counted"))

    class Meta:
        verbose_name = _("customer payment behaviour")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.delay_days:+d} days"


class Cell(models.Model):
    """What a scope or a filter selects (relance.analytics.positions.CELL): the customer's company, agency,
    collector, sales rep, risk class, and the currency of the amounts. Unidentified cash has no agency/people."""

    date = models.DateField()
    currency = models.CharField(max_length=3)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    risk_class = models.CharField(max_length=1, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.date} {self.company_id}/{self.agency_id}/{self.collector_id} {self.risk_class} {self.currency}"


class DailyPosition(Cell):
    """The stock measures of one cell at the end of ``date`` (default aging buckets b0..b5, at risk, disputed,
    unapplied cash, deposits, under promise, insured,
    factored, open invoices and credit notes, overdue, counts). Written by the daily job for
    its date and by ``relance kpi-refresh`` for past dates; read instead of the ledger when fresh."""

    b0 = models.DecimalField(**AMOUNT)
    b1 = models.DecimalField(**AMOUNT)
    b2 = models.DecimalField(**AMOUNT)
    b3 = models.DecimalField(**AMOUNT)
    b4 = models.DecimalField(**AMOUNT)
    b5 = models.DecimalField(**AMOUNT)
    at_risk = models.DecimalField(**AMOUNT)
    disputed = models.DecimalField(**AMOUNT)
    unapplied = models.DecimalField(**AMOUNT)
    deposits = models.DecimalField(**AMOUNT)
    under_promise = models.DecimalField(**AMOUNT)
    insured = models.DecimalField(**AMOUNT)
    factored = models.DecimalField(**AMOUNT)
    inv_open = models.DecimalField(**AMOUNT, default=0)
    cn_open = models.DecimalField(**AMOUNT, default=0)
    od_amount = models.DecimalField(**AMOUNT, default=0)  # open invoices past their due date
    od_count = models.PositiveIntegerField()
    cust_open = models.PositiveIntegerField(default=0)
    cust_od = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["date", "company"])]


class DailyFlow(Cell):
    """What happened in one cell on ``date``: net sales, receivables settled (cash and non-cash), cash applied,
    and the payment-behaviour sums (amount, amount × days to pay, amount × days beyond terms)."""

    sales = models.DecimalField(**AMOUNT)
    settled = models.DecimalField(**AMOUNT)
    cash = models.DecimalField(**AMOUNT)
    beh = models.DecimalField(max_digits=30, decimal_places=6)
    beh_pay = models.DecimalField(max_digits=30, decimal_places=6)
    beh_late = models.DecimalField(max_digits=30, decimal_places=6)

    class Meta:
        indexes = [models.Index(fields=["date", "company"])]


class SummaryRun(models.Model):
    """One refresh of the summaries: what the ledger looked like then (``mark``), to tell whether they are fresh."""

    kind = models.CharField(max_length=20)  # "position" (one date) | "flow" (every day up to ``date``)
    date = models.DateField()
    computed_at = models.DateTimeField()
    mark = models.JSONField(default=dict)
    seconds = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "date"], name="analytics_summaryrun_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.date}"


class DailyCustomer(Cell):
    """One customer's open items at ``date`` in one currency: aged (default buckets b0..b5) and overdue invoices
    (amount, count, oldest due date). Feeds the dashboard's largest-balances and most-overdue tables."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    b0 = models.DecimalField(**AMOUNT)
    b1 = models.DecimalField(**AMOUNT)
    b2 = models.DecimalField(**AMOUNT)
    b3 = models.DecimalField(**AMOUNT)
    b4 = models.DecimalField(**AMOUNT)
    b5 = models.DecimalField(**AMOUNT)
    total = models.DecimalField(**AMOUNT)
    od_amount = models.DecimalField(**AMOUNT)
    od_count = models.PositiveIntegerField()
    oldest_due = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["date", "total"]), models.Index(fields=["date", "od_amount"])]


class DailyForecast(Cell):
    """The cash forecast made at ``date`` for one cell, in the cell's currency (unrounded): one row per week
    (``index`` 0-12), per month (0-5), and the totals ``later``, ``promised`` and ``uncertain``."""

    period = models.CharField(max_length=10)
    index = models.PositiveSmallIntegerField(default=0)
    first = models.DateField(null=True, blank=True)
    last = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=30, decimal_places=6)

    class Meta:
        indexes = [models.Index(fields=["date", "company"])]
