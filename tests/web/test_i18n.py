"""French and English: the switch, the catalog, and pages without English left over."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse

LOCALE = Path(settings.BASE_DIR) / "relance" / "locale"
PO = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "fr" / "LC_MESSAGES" / "django.mo"


def switch_to_french(client, next_url="/"):
    return client.post(reverse("set_language"), {"language": "fr", "next": next_url})


def test_the_language_switch_turns_the_page_french(client_for, world):
    client = client_for("collector_alice")
    assert "Customers" in client.get(reverse("web:customer_list")).content.decode()
    response = switch_to_french(client, reverse("web:customer_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:customer_list")
    html = client.get(reverse("web:customer_list")).content.decode()
    assert '<html lang="fr"' in html
    assert "Clients" in html and "Solde ouvert" in html and "Se déconnecter" in html


def test_the_language_switch_is_offered_on_every_page_including_login(client, world):
    html = client.get(reverse("web:login")).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert 'value="fr"' in html and "Français" in html


def test_french_amounts_and_labels_on_the_360_page(client_for, world):
    client = client_for("collector_alice")
    switch_to_french(client)
    html = client.get(reverse("web:customer_detail", args=[world.customers["c_par_alice"].pk])).content.decode()
    assert "Postes ouverts" in html and "Historique des paiements" in html and "Facture" in html
    assert "1\u202f200,00\xa0€" in html  # French number format
    for english in ["Open items", "Payment history", "Balances", "Days overdue", "Invoice<"]:
        assert english not in html, english


@pytest.mark.parametrize("name", ["web:home", "web:customer_list", "web:document_list"])
def test_french_pages_keep_no_english_headings(client_for, world, name):
    client = client_for("credit_manager")
    switch_to_french(client)
    html = client.get(reverse(name)).content.decode()
    for english in ["Customers<", "Documents<", "Overdue<", "Open receivables", "Sign out", "Search<", "Apply<"]:
        assert english not in html, english


def test_vocabulary_and_roles_are_translated(client_for, world):
    client = client_for("collector_alice")
    switch_to_french(client)
    html = client.get(reverse("web:home")).content.decode()
    assert "Chargé de recouvrement" in html  # the role under the user's name


def test_every_message_of_the_french_catalog_is_translated():
    with PO.open("rb") as f:
        catalog = read_po(f)
    untranslated = [
        m.id for m in catalog if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))
    ]
    assert untranslated == []
    assert catalog.plural_forms == "nplurals=2; plural=(n > 1);"


def test_the_compiled_catalog_matches_the_po_file():
    """The .mo is committed (a fresh machine may lack gettext): it must be recompiled after each .po change."""
    with PO.open("rb") as f:
        catalog = read_po(f)
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        if isinstance(m.id, tuple):
            if compiled.ngettext(m.id[0], m.id[1], 1) != m.string[0]:
                stale.append(m.id)
        elif compiled.gettext(m.id) != m.string:
            stale.append(m.id)
    assert stale == [], "run: relance compilemessages --ignore=.venv"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_dashboard_labels_are_translated_and_show_no_doubled_percent_sign(client_for, world, language):
    client = client_for("credit_manager")
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    html = client.get(reverse("web:home") + f"?company={world.fr.code}").content.decode()  # EUR: no rates needed
    assert 'data-testid="dashboard"' in html and "%%" not in html
    assert ("CEI, 30 derniers jours" if language == "fr" else "CEI, last 30 days") in html
