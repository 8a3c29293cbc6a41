"""Fixtures and helpers for the staff pages: a client signed in as any user of the standard world."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import World

CUSTOMER_REF = re.compile(r'<a class="ref" href="/customers/\d+/">([^<]+)</a>')
DOCUMENT_REF = re.compile(r'<a class="ref" href="/documents/\d+/">([^<]+)</a>')


def customer_refs(html: str) -> set[str]:
    """The customer references listed in the customer table of a page."""
    return set(CUSTOMER_REF.findall(html))


def document_numbers(html: str) -> set[str]:
    """The document numbers listed in a document table of a page."""
    return set(DOCUMENT_REF.findall(html))


def pytest_configure(config: pytest.Config) -> None:
    # WhiteNoise warns when STATIC_ROOT (var/static) has not been collected yet; irrelevant in tests.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture
def client_for(client: Client, world: World) -> Callable[[str], Client]:
    """``client_for("collector_alice")``: the test client signed in as that user of the world."""

    def sign_in(user_key: str) -> Client:
        client.force_login(world.users[user_key])
        return client

    return sign_in
