"""The scenarios in force (versioned YAML documents) and the companies' collection settings."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from relance.core import audit, scope
from relance.orgs.models import Company, User

from . import domain, rulebook
from .models import CollectionSettings, RulebookVersion

MANAGE = "manage_reference_data"
_cache: dict[str, domain.Rulebook] = {}  # by text: a version number may name another text in another database


def active_version() -> RulebookVersion | None:
    return RulebookVersion.objects.order_by("-version").first()


def active_rulebook() -> tuple[domain.Rulebook, int]:
    """The rulebook in force and its version (the shipped default when the table is empty)."""
    row = active_version()
    if row is None:
        return rulebook.parse(rulebook.default_text(), source="default_scenarios.yaml"), 0
    if row.text not in _cache:
        _cache[row.text] = rulebook.parse(row.text, source=f"scenarios v{row.version}")
    return _cache[row.text], row.version


@transaction.atomic
def rulebook_load(*, actor: Any, text: str, source: str = "document", comment: str = "") -> RulebookVersion:
    """Validate ``text`` and make it the version in force. A document with problems is refused, naming each
    line; loading the same text as the version in force changes nothing."""
    if isinstance(actor, User):
        scope.require(actor, MANAGE)
    rulebook.parse(text, source=source)
    current = active_version()
    if current is not None and current.text == text:
        return current
    row = RulebookVersion.objects.create(
        version=(current.version + 1) if current else 1,
        text=text,
        comment=comment[:200],
        created_by=actor if isinstance(actor, User) else None,
        actor_label=audit.actor_label(actor),
    )
    audit.record(actor=actor, action="scenarios.load", obj=row, changes={"version": row.version, "source": source})
    return row


def settings_for(company: Company | int) -> CollectionSettings:
    """The company's collection settings (an unsaved row with the defaults when none was set)."""
    company_id = company if isinstance(company, int) else company.pk
    found = CollectionSettings.objects.filter(company_id=company_id).first()
    return found or CollectionSettings(company_id=company_id)
