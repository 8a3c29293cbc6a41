"""Rate limits on portal actions and lookups, counted in the cache (fixed windows).

Limits are (count, seconds) settings; the cache is Django's default (local memory unless configured: with several
processes, point ``CACHES`` at Redis or a database cache so that they share the counts).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from relance.core import clock

DEFAULTS = {
    # POSTed actions (select, pay, promise, dispute, contact): per link and per address
    "action_link": (30, 600),
    "action_ip": (60, 600),
    # page views and downloads by address, including wrong tokens (guessing)
    "view_ip": (300, 600),
    "invalid_ip": (20, 600),
}


def client_ip(request: HttpRequest) -> str:
    """The caller's address (REMOTE_ADDR; behind a proxy, configure it to set REMOTE_ADDR from the real client)."""
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


def _limit(name: str) -> tuple[int, int]:
    configured = getattr(settings, "RELANCE_PORTAL_RATE_LIMITS", {}) or {}
    count, seconds = configured.get(name, DEFAULTS[name])
    return int(count), int(seconds)


def hit(name: str, who: str) -> bool:
    """Count one event of ``name`` for ``who``; False once the limit of the current window is exceeded."""
    count, seconds = _limit(name)
    window = int(clock.now().timestamp()) // seconds
    digest = hashlib.sha256(who.encode("utf-8")).hexdigest()[:32]
    key = f"portal:rl:{name}:{digest}:{window}"
    cache.add(key, 0, timeout=seconds + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds + 5)
        used = 1
    return used <= count


def blocked(name: str, who: str) -> bool:
    """Whether ``who`` is already over the limit ``name`` (without counting)."""
    count, seconds = _limit(name)
    window = int(clock.now().timestamp()) // seconds
    digest = hashlib.sha256(who.encode("utf-8")).hexdigest()[:32]
    return int(cache.get(f"portal:rl:{name}:{digest}:{window}", 0) or 0) >= count
