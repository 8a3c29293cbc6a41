"""Signing in and out, and what anonymous visitors get."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

PAGES = ["web:home", "web:customer_list", "web:document_list"]


@pytest.mark.parametrize("name", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={url}"


def test_an_anonymous_visitor_cannot_reach_a_customer_or_a_file(client, world):
    for url in (
        reverse("web:customer_detail", args=[world.customers["c_par_alice"].pk]),
        reverse("web:document_detail", args=[world.documents["c_par_alice"].pk]),
        reverse("web:document_file", args=[world.documents["c_par_alice"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))


def test_the_login_page_asks_for_an_email_and_a_password(client, db):
    html = client.get(reverse("web:login")).content.decode()
    assert 'type="email"' in html and 'name="username"' in html
    assert 'type="password"' in html


def test_a_user_signs_in_with_email_and_password_and_lands_on_home(client, world):
    response = client.post(reverse("web:login"), {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    assert b"alice@example.com" in home.content


def test_a_user_returns_to_the_page_asked_for_after_signing_in(client, world):
    response = client.post(
        reverse("web:login") + "?next=/customers/",
        {"username": "alice@example.com", "password": PASSWORD, "next": "/customers/"},
    )
    assert response["Location"] == "/customers/"


def test_a_wrong_password_is_refused_with_a_clear_message(client, world):
    response = client.post(reverse("web:login"), {"username": "alice@example.com", "password": "nope"})
    assert response.status_code == 200
    assert b"Unknown e-mail or wrong password." in response.content
    assert "_auth_user_id" not in client.session


def test_an_inactive_user_cannot_sign_in(client, world):
    user = world.users["collector_alice"]
    user.is_active = False
    user.save()
    response = client.post(reverse("web:login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signing_out_takes_a_post_and_returns_to_the_login_page(client_for):
    client = client_for("collector_alice")
    assert client.get(reverse("web:logout")).status_code == 405  # a link cannot sign anyone out
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:login")
    assert client.get(reverse("web:home")).status_code == 302


def test_a_signed_in_user_visiting_the_login_page_goes_home(client_for):
    response = client_for("collector_alice").get(reverse("web:login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_the_users_language_applies_at_sign_in_when_the_browser_has_none(client, world):
    user = world.users["collector_alice"]
    user.language = "fr"
    user.save()
    response = client.post(reverse("web:login"), {"username": user.email, "password": PASSWORD})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert "Mon portefeuille" in client.get(reverse("web:home")).content.decode()


def test_a_language_chosen_in_the_browser_wins_over_the_users_setting(client, world):
    user = world.users["collector_alice"]
    user.language = "fr"
    user.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("web:login"), {"username": user.email, "password": PASSWORD})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert "My portfolio" in client.get(reverse("web:home")).content.decode()


def test_the_navigation_names_the_user_and_role_and_links_admin_for_staff_only(client_for, world):
    html = client_for("collector_alice").get(reverse("web:home")).content.decode()
    assert "Collector" in html
    assert reverse("admin:index") not in html
    admin = world.users["admin"]
    admin.is_staff = True
    admin.first_name, admin.last_name = "Ada", "Admin"
    admin.save()
    html = client_for("admin").get(reverse("web:home")).content.decode()
    assert "Ada Admin" in html and "Administrator" in html
    assert reverse("admin:index") in html
