"""Signing in and out (e-mail and password)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.utils.translation import check_for_language

from relance.web.forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        """Sign in; the user's preferred language applies unless this browser already chose one."""
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
        if language and settings.LANGUAGE_COOKIE_NAME not in self.request.COOKIES and check_for_language(language):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule): a link cannot sign anyone out."""
