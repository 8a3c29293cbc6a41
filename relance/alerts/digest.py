"""The daily alert digest: one e-mail per user listing the alerts raised in their scope since their previous
digest, and those assigned to them. No alert, no e-mail. A digest is claimed (a unique (user, day) row,
committed) before it is sent, so a rerun or a second scheduler never sends it twice; an unreachable server
releases the claim for the next run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from relance.channels import mail
from relance.core import clock, scope
from relance.orgs.models import User

from . import selectors
from .models import Digest

MAX_LISTED = 50


def _since(user: User, as_of: dt.date) -> dt.datetime:
    previous = Digest.objects.filter(user=user, day__lt=as_of).order_by("-day").values_list("claimed_at", flat=True)
    last = previous.first()
    if last is not None:
        return last
    start = dt.datetime.combine(as_of - dt.timedelta(days=1), dt.time.min)
    return start.replace(tzinfo=dt.UTC)


def digest_for(user: User, as_of: dt.date) -> dict[str, Any] | None:
    """What the user's digest would list today, or None when there is nothing new."""
    since = _since(user, as_of)
    new = list(selectors.alerts_for(user, status="live").filter(raised_at__gt=since).order_by("-raised_at"))
    assigned = list(selectors.alerts_for(user, status="live").filter(assigned_to=user).order_by("-raised_on"))
    if not new and not [a for a in assigned if a not in new]:
        return None
    return {"user": user, "new": new[:MAX_LISTED], "new_count": len(new), "assigned": assigned[:MAX_LISTED],
            "as_of": as_of, "base_url": settings.RELANCE_BASE_URL}  # fmt: skip


def send_digests(*, as_of: dt.date, mailer: mail.Mailer | None = None) -> dict[str, int]:
    """Send today's digest to every active user with alerts to report (at most once per user and day)."""
    mailer = mailer or mail.DjangoMailer()
    counts = {"sent": 0, "skipped": 0, "already": 0, "failed": 0}
    for user in User.objects.filter(is_active=True).exclude(email="").order_by("pk"):
        if scope.scope_of(user).level == scope.NOTHING:
            continue
        if Digest.objects.filter(user=user, day=as_of).exists():
            counts["already"] += 1
            continue
        context = digest_for(user, as_of)
        if context is None:
            counts["skipped"] += 1
            continue
        try:
            with transaction.atomic():
                claim = Digest.objects.create(user=user, day=as_of, claimed_at=clock.now(), alerts=context["new_count"])
        except IntegrityError:
            counts["already"] += 1
            continue
        language = user.language if user.language in ("fr", "en") else "en"
        with translation.override(language):
            subject = render_to_string("alerts/digest_subject.txt", context).strip()
            body = render_to_string("alerts/digest.txt", context)
        message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        try:
            mailer.send(message)
        except mail.Unreachable:
            claim.delete()  # nothing was sent: the next run tries again
            counts["failed"] += 1
            continue
        except mail.Refused:
            counts["failed"] += 1  # a bad address: kept as claimed, not retried every day
            continue
        Digest.objects.filter(pk=claim.pk).update(sent_at=clock.now())
        counts["sent"] += 1
    return counts
