"""Collections records that the ledger foundation already needs: disputes.

Scenarios, the daily cycle, promises and the worklist build on this app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import Customer, Document
from relance.orgs.models import Company


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED_CREDIT_NOTE = "credit_note", _("Resolved: credit note issued")
    REJECTED = "rejected", _("Rejected")
    PAID = "paid", _("Resolved: paid")


class Dispute(models.Model):
    """A customer contests some documents; while open, dunning pauses for those documents only."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="disputes")
    documents = models.ManyToManyField(Document, related_name="disputes")
    reason = models.CharField(_("reason"), max_length=40)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    opened_on = models.DateField(_("opened on"))
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_on__isnull=True)
                | (~Q(status="open") & Q(resolved_on__isnull=False)),
                name="collections_dispute_resolution_date",
            )
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} ({self.get_status_display()})"


class DisputeReason(models.TextChoices):
    PRICE = "price", _("Price or discount")
    QUANTITY = "quantity", _("Quantity delivered")
    QUALITY = "quality", _("Quality or damage")
    NOT_RECEIVED = "not_received", _("Goods or service not received")
    DUPLICATE = "duplicate", _("Duplicate invoice")
    OTHER = "other", _("Other")


class PromiseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class PromiseSource(models.TextChoices):
    COLLECTOR = "collector", _("Collector")
    PORTAL = "portal", _("Customer portal")
    EMAIL = "email", _("E-mail reply")
    API = "api", _("API")


class Promise(models.Model):
    """A customer's promise to pay ``amount`` by ``promised_for``; while open, dunning pauses for its documents."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="promises")
    documents = models.ManyToManyField(Document, related_name="promises", blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=3)
    currency = models.CharField(_("currency"), max_length=3)
    promised_for = models.DateField(_("promised for"))
    made_on = models.DateField(_("made on"))
    status = models.CharField(_("status"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.OPEN)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=10, choices=PromiseSource.choices, default=PromiseSource.COLLECTOR
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-made_on", "-id"]
        indexes = [models.Index(fields=["status", "promised_for"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="collections_promise_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="open", resolved_on__isnull=True)
                | (~Q(status="open") & Q(resolved_on__isnull=False)),
                name="collections_promise_resolution_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Promise {self.pk} ({self.amount} {self.currency} by {self.promised_for})"


class Activity(models.Model):
    """One line of a customer's collection history (see ``relance.collections.activity.KINDS``)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="activities")
    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=30)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(_("actor"), max_length=200, blank=True)
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["customer", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


# --- scenarios, the cycle and its outbox ---------------------------------------------------------


class RulebookVersion(models.Model):
    """One version of the scenarios-and-segments YAML document; the latest is in force."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    text = models.TextField(_("document"))
    comment = models.CharField(_("comment"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Scenarios v{self.version}"


class CollectionSettings(models.Model):
    """A company's collection settings (defaults apply to a company without a row)."""

    company = models.OneToOneField(Company, on_delete=models.CASCADE, related_name="+", primary_key=True)
    freshness_hours = models.PositiveIntegerField(
        _("freshness limit (hours)"), default=24, help_text=_("0 disables the check.")
    )
    mailbox = models.EmailField(_("collections mailbox (Reply-To)"), blank=True)
    interest_rule = models.CharField(_("statutory interest rule"), max_length=20, default="fr_ecb_plus_10")
    interest_points = models.DecimalField(
        _("points above the reference rate"), max_digits=6, decimal_places=3, default=10
    )
    recovery_indemnity = models.DecimalField(
        _("recovery indemnity per invoice"), max_digits=10, decimal_places=2, default=40
    )
    write_off_threshold = models.DecimalField(
        _("small balance write-off threshold"), max_digits=10, decimal_places=2, default=5
    )

    class Meta:
        verbose_name_plural = _("collection settings")

    def __str__(self) -> str:
        return f"Collection settings of {self.company_id}"


class CustomerTerms(models.Model):
    """Collection terms of one customer: the contractual late-payment rate, if any."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+", primary_key=True)
    contract_rate = models.DecimalField(
        _("contractual late-payment rate (% a year)"), max_digits=6, decimal_places=3, null=True, blank=True
    )

    def __str__(self) -> str:
        return f"Terms of customer {self.customer_id}"


class CycleRun(models.Model):
    """One run of the dunning cycle for a business date."""

    date = models.DateField(_("date"), db_index=True)
    status = models.CharField(max_length=10, default="running")  # running | done | failed
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"Cycle {self.date} ({self.status})"


class ActionStatus(models.TextChoices):
    PENDING = "pending", _("To send")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    QUEUED = "queued", _("Queued for printing")
    PRINTED = "printed", _("Printed")
    TASK_CREATED = "task_created", _("Task created")
    FAILED = "failed", _("Failed")
    UNCONFIRMED = "unconfirmed", _("Interrupted while sending (not resent)")


class DunningAction(models.Model):
    """The outbox: one communication decided by the cycle (intent), then its outcome.

    The intent is written, with the documents' new levels, in the transaction that decides it; the channel
    is then called, and the outcome recorded. An action claimed for sending whose outcome was never
    recorded (a crash in between) is never sent again: it is marked ``unconfirmed`` for a person to check.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="dunning_actions")
    currency = models.CharField(max_length=3)
    run_date = models.DateField(_("date"))
    key = models.CharField(max_length=120, unique=True)
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    scenario = models.CharField(_("scenario"), max_length=40)
    rulebook_version = models.PositiveIntegerField(default=0)
    step = models.CharField(_("step"), max_length=40)
    step_day = models.IntegerField()
    channel = models.CharField(_("channel"), max_length=20)
    tone = models.CharField(max_length=10, default="neutral")
    template = models.CharField(max_length=40, blank=True)
    document_ids = models.JSONField(default=list)
    numbers = models.JSONField(default=list)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=3)
    status = models.CharField(_("status"), max_length=15, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    fallback_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.CharField(max_length=300, blank=True)
    message_id = models.CharField(max_length=200, blank=True, db_index=True)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to="letters/%Y/%m/", blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-run_date", "-id"]
        indexes = [models.Index(fields=["status", "run_date"]), models.Index(fields=["customer", "run_date"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.step} ({self.channel})"


class DunningState(models.Model):
    """How far dunning went for one document: the day offset of the last step taken (never goes back)."""

    document = models.OneToOneField(Document, on_delete=models.CASCADE, primary_key=True, related_name="dunning_state")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=True)
    level = models.IntegerField()
    step = models.CharField(max_length=40)
    action = models.ForeignKey(DunningAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_on = models.DateField()

    def __str__(self) -> str:
        return f"Document {self.document_id} at step {self.step}"


class BadAddress(models.Model):
    """An e-mail address that bounced: reminders go by letter instead until it is corrected."""

    email = models.EmailField(unique=True)
    reason = models.TextField(blank=True)
    since = models.DateTimeField()

    def __str__(self) -> str:
        return self.email


# --- worklist -------------------------------------------------------------------------------------


class TaskKind(models.TextChoices):
    CALL = "call", _("Phone call")
    HANDOVER = "handover", _("Hand-over (litigation, agency)")
    FOLLOW_UP = "follow_up", _("Follow-up")
    REPLY = "reply", _("Customer reply to handle")
    CHECK = "check", _("Check")
    APPROVAL = "approval", _("Approval")


class Task(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="collection_tasks")
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=300)
    due_on = models.DateField(_("due on"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="collection_tasks"
    )
    status = models.CharField(_("status"), max_length=10, default="open")  # open | done | cancelled
    done_on = models.DateField(_("done on"), null=True, blank=True)
    action = models.ForeignKey(DunningAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_on"])]

    def __str__(self) -> str:
        return self.title


# --- customer replies -----------------------------------------------------------------------------


class ReplyClass(models.TextChoices):
    PROMISE = "promise", _("Promise to pay")
    DISPUTE = "dispute", _("Dispute")
    ALREADY_PAID = "already_paid", _("Says already paid")
    OUT_OF_OFFICE = "out_of_office", _("Out of office")
    BOUNCE = "bounce", _("Delivery failure")
    OTHER = "other", _("Other")


class Reply(models.Model):
    """An e-mail received in the collections mailbox, threaded to a customer (and a reminder when known)."""

    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    action = models.ForeignKey(DunningAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies")
    message_id = models.CharField(max_length=300, unique=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    sender = models.CharField(_("from"), max_length=300)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    body = models.TextField(_("text"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    classification = models.CharField(_("classification"), max_length=15, choices=ReplyClass.choices)
    rule = models.CharField(_("rule"), max_length=200, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = _("replies")

    def __str__(self) -> str:
        return self.subject or self.message_id


# --- interest and indemnities claimed -------------------------------------------------------------


class Claim(models.Model):
    """Late-payment interest or the recovery indemnity claimed for a document: never claimed twice.

    Interest is claimed for the days ``period_from``..``period_to`` (inclusive); the next claim starts after.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10)  # interest | indemnity
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=18, decimal_places=3)
    period_from = models.DateField(null=True, blank=True)
    period_to = models.DateField(null=True, blank=True)
    claimed_on = models.DateField()
    action = models.ForeignKey(DunningAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document"], condition=Q(kind="indemnity"), name="collections_one_indemnity_per_document"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} on document {self.document_id}"


class ReferenceRate(models.Model):
    """Rates for late-payment interest, in percent a year, in force from ``date``.

    ``policy``: the ECB main refinancing operations rate (date with effect from); ``legal``: the French legal
    interest rate for professional creditors, per half-year (the floor of a contractual rate is three times it).
    """

    kind = models.CharField(max_length=10)  # policy | legal
    date = models.DateField()
    rate = models.DecimalField(max_digits=7, decimal_places=3)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "date"]
        constraints = [models.UniqueConstraint(fields=["kind", "date"], name="collections_reference_rate_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.date} {self.rate}%"


class Provision(models.Model):
    """A provision for a doubtful debt (excluding tax), as set on ``date``; the latest row per document is in force.

    Rows are never changed: a new rate is a new row (``previous_amount`` gives the movement to book).
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    rate = models.DecimalField(max_digits=5, decimal_places=4)
    amount = models.DecimalField(max_digits=18, decimal_places=3)
    previous_amount = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    currency = models.CharField(max_length=3)
    date = models.DateField()
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"Provision {self.amount} {self.currency} on document {self.document_id}"
