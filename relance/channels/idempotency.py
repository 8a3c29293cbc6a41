"""Idempotency keys of the API's writes (``Idempotency-Key`` header, as Stripe and the IETF draft).

The first request with a key is executed and its answer (status and body) stored with the key, the
caller and a hash of the request. A retry with the same key and the same request gets the stored
answer without running again; the same key with another request is refused. Keys last 24 hours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from relance.core import clock

from .models import IdempotencyKey

TTL = dt.timedelta(hours=24)
ABANDONED_AFTER = dt.timedelta(minutes=10)  # a claim never finished (a crash) may be taken again after this
KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces

NEW = "new"  # the key is claimed for this request: run it, then finish() or release()
REPLAY = "replay"  # the stored answer is to be sent back
REUSED = "reused"  # the key was used for a different request
IN_PROGRESS = "in_progress"  # the first request with the key is still running


@dataclass(frozen=True)
class Claim:
    outcome: str
    row: IdempotencyKey


def request_hash(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode()):
        digest.update(part + b"\n")
    digest.update(body)
    return digest.hexdigest()


def valid_key(key: str) -> bool:
    return bool(KEY_RE.match(key))


def begin(*, user: Any, key: str, method: str, path: str, fingerprint: str) -> Claim:
    """Claim ``key`` for this request, or say why not. The claim is committed at once (own transaction)."""
    now = clock.now()
    for _ in range(2):
        row = IdempotencyKey.objects.filter(user=user, key=key).first()
        if row is not None:
            expired = row.expires_at <= now
            abandoned = row.status is None and row.created_at <= now - ABANDONED_AFTER
            if expired or abandoned:
                IdempotencyKey.objects.filter(pk=row.pk).delete()
            elif row.request_hash != fingerprint:
                return Claim(REUSED, row)
            elif row.status is None:
                return Claim(IN_PROGRESS, row)
            else:
                return Claim(REPLAY, row)
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    method=method.upper(),
                    path=path[:300],
                    request_hash=fingerprint,
                    created_at=now,
                    expires_at=now + TTL,
                )
            return Claim(NEW, row)
        except IntegrityError:  # another request claimed it between our read and our insert
            continue
    row = IdempotencyKey.objects.get(user=user, key=key)
    return Claim(IN_PROGRESS if row.status is None else REPLAY, row)


def finish(row: IdempotencyKey, *, status: int, content_type: str, body: str) -> None:
    """Store the answer: call it inside the transaction of the request's writes, so both commit together."""
    IdempotencyKey.objects.filter(pk=row.pk).update(status=status, content_type=content_type, response_body=body)


def release(row: IdempotencyKey) -> None:
    """Give the key up (the request failed unexpectedly): a retry runs again."""
    IdempotencyKey.objects.filter(pk=row.pk, status__isnull=True).delete()


def prune(*, now: dt.datetime | None = None) -> int:
    """Delete expired keys (the daily job)."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or clock.now()).delete()
    return deleted
