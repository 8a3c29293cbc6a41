"""Text messages through a pluggable gateway (rule 9: a Protocol, a real adapter per provider, a fake for tests).

No provider ships with Relance: set ``RELANCE_SMS_GATEWAY`` to the dotted path of a class implementing
:class:`Gateway`. Without one, SMS steps fall back to a letter (the cycle treats the customer as unreachable).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class Gateway(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> str:
        """Send ``text`` to the phone number ``to``; return the provider's message id; raise on failure."""


@dataclass
class FakeGateway:
    """An in-memory gateway: what was sent, in order (tests and demos)."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def send(self, *, to: str, text: str, reference: str) -> str:
        self.sent.append((to, text, reference))
        return f"fake-{len(self.sent)}"


_gateway: Gateway | None = None


def gateway() -> Gateway | None:
    """The configured gateway (``RELANCE_SMS_GATEWAY``), or one installed with :func:`install`, else None."""
    if _gateway is not None:
        return _gateway
    path = getattr(settings, "RELANCE_SMS_GATEWAY", "")
    return import_string(path)() if path else None


def install(g: Gateway | None) -> None:
    global _gateway
    _gateway = g
